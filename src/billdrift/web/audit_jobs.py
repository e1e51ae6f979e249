"""Audits in progress: their private upload directories and their background runs.

Each audit gets its own directory, made by :func:`tempfile.mkdtemp` (0700: only
this user can open it), in the system's temporary directory. The files in it are
the person's customer data, so it lives no longer than it must: it is removed
when the audit's run ends (its report is kept in memory to read), when an upload
is refused, when the audit is dropped to make room for newer ones, and when the
server shuts down (:meth:`Audits.close`, from the app's lifespan).

A run is a thread (DuckDB and Arrow release the GIL, and the event loop stays free
to serve the progress polls); its steps are appended as they come, under a lock.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final

from billdrift.core.report import Report
from billdrift.errors import BilldriftError
from billdrift.usecases.audit import Recognition, Step, run_audit

#: Audits kept (with their reports) at most; the oldest not running go first.
MAX_AUDITS: Final = 8


@dataclass
class Audit:
    """One audit: the files, what they were recognized as, and its run."""

    id: str
    folder: Path
    recognition: Recognition
    created: float = field(default_factory=time.monotonic)
    steps: list[Step] = field(default_factory=list)
    report: Report | None = None
    error: str | None = None
    running: bool = False
    started: float | None = None
    #: The instant to evaluate at (from the upload form); None: when the run starts.
    as_of: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.report is not None or self.error is not None


class Audits:
    """Every audit of one app, safe to use from the server's threads."""

    def __init__(self, root: Path | None = None) -> None:
        self._root = root
        self._lock = threading.Lock()
        self._by_id: dict[str, Audit] = {}
        self._folders: set[Path] = set()

    def folder(self) -> Path:
        """A new private directory for one upload."""
        path = Path(tempfile.mkdtemp(prefix="billdrift-audit-", dir=self._root))
        with self._lock:
            self._folders.add(path)
        return path

    def discard(self, folder: Path) -> None:
        """Remove an upload's directory and everything in it."""
        shutil.rmtree(folder, ignore_errors=True)
        with self._lock:
            self._folders.discard(folder)

    def add(self, folder: Path, recognition: Recognition) -> Audit:
        audit = Audit(secrets.token_urlsafe(12), folder, recognition)
        with self._lock:
            self._by_id[audit.id] = audit
            dropped = self._overflow()
        for old in dropped:
            self.discard(old.folder)
        return audit

    def get(self, audit_id: str) -> Audit | None:
        with self._lock:
            return self._by_id.get(audit_id)

    def steps(self, audit: Audit) -> list[Step]:
        with self._lock:
            return list(audit.steps)

    def choose(self, audit: Audit, recognition: Recognition) -> None:
        with self._lock:
            audit.recognition = recognition

    def start(self, audit: Audit, as_of: datetime) -> bool:
        """Run the audit in a thread; False when it already ran or is running."""
        with self._lock:
            if audit.running or audit.finished:
                return False
            audit.running, audit.started = True, time.monotonic()
        thread = threading.Thread(
            target=self._run, args=(audit, as_of), name=f"audit-{audit.id}", daemon=True
        )
        thread.start()
        return True

    def _run(self, audit: Audit, as_of: datetime) -> None:
        def on_step(step: Step) -> None:
            with self._lock:
                audit.steps.append(step)

        try:
            report = run_audit(audit.recognition, as_of, on_step)
            with self._lock:
                audit.report = report
        except BilldriftError as error:
            with self._lock:
                audit.error = str(error)
        except Exception as error:  # a bug: shown on the page rather than lost in a thread
            with self._lock:
                audit.error = f"the audit failed unexpectedly ({type(error).__name__}: {error})"
        finally:
            self.discard(audit.folder)
            with self._lock:
                audit.running = False

    def close(self) -> None:
        """Remove every upload directory (the server is shutting down)."""
        with self._lock:
            folders = list(self._folders)
        for folder in folders:
            self.discard(folder)

    def _overflow(self) -> list[Audit]:
        """Audits to drop so at most MAX_AUDITS are kept (the lock is held)."""
        idle = sorted(
            (audit for audit in self._by_id.values() if not audit.running),
            key=lambda audit: audit.created,
        )
        dropped = idle[: max(len(self._by_id) - MAX_AUDITS, 0)]
        for audit in dropped:
            del self._by_id[audit.id]
        return dropped
