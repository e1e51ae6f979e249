"""The review queue: open findings that still need a person, and their decisions.

Decisions are reviews (append-only rows): *acknowledged* (seen, being handled),
*snoozed* until a date, *expected* (intended; also written to the config as an
exception so runs stop reporting it), or just *noted*. A decision applies to the
occurrence it was made about (the finding's ``opened_run``): a finding that
resolves and later comes back, or whose exception expires, needs a fresh look and
returns to the queue. A snooze or an expectation with a date stops applying at
that date, so a snoozed finding still there after its expiry is back in the queue.

Queue order: urgent first (paid_but_blocked: a paying customer locked out), then
severity, then money at stake (the amount, compared across currencies only as a
rough order: nothing here converts currencies), then the usual kind order, then
oldest first, then by account, customer and subscription id in natural order
(account 2 before account 19). The queue itself is one SQL query in the store,
paged and filtered: :mod:`billdrift.history.queue`.
"""

from __future__ import annotations

import dataclasses
import getpass
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Final

from billdrift.config import AccessException, load_config
from billdrift.core.instants import parse_instant
from billdrift.core.model import Kind
from billdrift.errors import BilldriftError, ConfigError
from billdrift.history.fingerprint import MIN_PREFIX, short
from billdrift.history.store import (
    FindingState,
    HistoryError,
    HistoryStore,
    Review,
)

#: Kinds that jump the queue: money taken from someone who cannot use what they paid for.
URGENT: Final = frozenset({Kind.PAID_BUT_BLOCKED})
#: Actions that take a finding out of the queue while they apply ("noted" does not).
DECIDING: Final = frozenset({"acknowledged", "snoozed", "expected"})
_HEX: Final = re.compile(r"[0-9a-f]+")


@dataclass(frozen=True)
class QueueItem:
    """One open finding, with every review of it and the decision in force, if any."""

    state: FindingState
    reviews: tuple[Review, ...]
    decision: Review | None

    @property
    def urgent(self) -> bool:
        return self.state.kind in URGENT

    @property
    def notes(self) -> tuple[Review, ...]:
        """Reviews that carry words, oldest first."""
        return tuple(review for review in self.reviews if review.note)


def decision_in_force(
    state: FindingState, reviews: Iterable[Review], now: datetime
) -> Review | None:
    """The latest deciding review of the finding's current occurrence, unless it expired."""
    return decision_for(state.opened_run, reviews, now)


def decision_for(opened_run: int, reviews: Iterable[Review], now: datetime) -> Review | None:
    """:func:`decision_in_force` for the occurrence opened in run `opened_run` (all it
    needs of the finding's state)."""
    latest = None
    for review in reviews:
        applies = review.action in DECIDING and review.opened_run == opened_run
        if applies and (latest is None or (review.review_id or 0) >= (latest.review_id or 0)):
            latest = review
    if latest is None:
        return None
    if latest.until is not None and latest.until <= now:
        return None
    return latest


def resolve_fingerprint(store: HistoryStore, prefix: str) -> FindingState:
    """The finding a full fingerprint or a unique prefix (4+ hex digits) names."""
    wanted = prefix.strip().lower()
    if len(wanted) < MIN_PREFIX or not _HEX.fullmatch(wanted):
        raise HistoryError(
            f"{prefix!r} is not a fingerprint: expected at least {MIN_PREFIX} hex digits "
            "as shown by `billdrift review`"
        )
    matches = store.fingerprints_starting(wanted, limit=6)
    if not matches:
        raise HistoryError(f"no finding with fingerprint {wanted} in history store {store.shown}")
    if len(matches) > 1:
        shown = ", ".join(short(fp) for fp in matches[:5])
        more = ", ..." if len(matches) > 5 else ""
        raise HistoryError(
            f"fingerprint prefix {wanted} is ambiguous ({shown}{more}); give more digits"
        )
    state = store.finding(matches[0])
    assert state is not None
    return state


def parse_until(text: str, option: str = "--until") -> datetime:
    """A date (midnight UTC that day) or an ISO-8601 instant (no zone means UTC)."""
    return parse_instant(
        text, option, "a date such as 2026-12-31 or an instant such as 2026-12-31T18:00:00Z"
    )


def current_user() -> str:
    """Who is deciding, for the record: $BILLDRIFT_USER, else the login name."""
    named = os.environ.get("BILLDRIFT_USER", "").strip()
    if named:
        return named
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def record_decision(
    store: HistoryStore,
    state: FindingState,
    action: str,
    note: str,
    who: str,
    at: datetime,
    until: datetime | None = None,
) -> Review:
    """Append a review of `state`'s current occurrence."""
    if action not in ("acknowledged", "snoozed", "expected", "noted"):
        raise ValueError(f"unknown review action {action!r}")
    review = Review(
        fingerprint=state.fingerprint,
        action=action,  # type: ignore[arg-type]  # checked just above
        note=note,
        who=who,
        at=at,
        until=until,
        opened_run=state.opened_run,
    )
    return store.add_review(review)


# -- expect: an exception appended to the config file ------------------------------------


def exception_for(state: FindingState, reason: str, until: datetime | None) -> AccessException:
    """The config exception that suppresses this finding (and only its kind).

    Account-centred findings are excepted by account (it survives a relink or a
    resubscribe, like the fingerprint); the others by billing customer.
    """
    if state.account_id is not None:
        return AccessException(
            account=state.account_id, kind=state.kind, reason=reason, expires=until
        )
    if state.customer_id is not None:
        return AccessException(
            customer=state.customer_id, kind=state.kind, reason=reason, expires=until
        )
    raise HistoryError(
        f"finding {short(state.fingerprint)} names no account or customer, so no config "
        "exception can match it"
    )


def _toml_instant(value: datetime) -> date | datetime:
    """A date when `value` is midnight UTC (as `--until 2027-01-01` gives), else the
    instant in UTC to the second."""
    value = value.astimezone(UTC).replace(microsecond=0)
    if value.time() == datetime.min.time():
        return value.date()
    return value


def exception_toml(
    exception: AccessException, fingerprint: str, who: str, on: date, newline: str = "\n"
) -> str:
    """The ``[[exceptions]]`` entry as TOML text, with a comment saying where it came from.

    tomlkit writes the values (quoting and escaping strings, dates as TOML dates), so
    no reason or id can break the file; the entry ends in `newline`, the file's own."""
    import tomlkit  # here: only `review expect` writes TOML

    assert exception.kind is not None
    entry = tomlkit.table()
    if exception.account is not None:
        entry.add("account", exception.account)
    if exception.customer is not None:
        entry.add("customer", exception.customer)
    entry.add("kind", exception.kind.value)
    entry.add("reason", exception.reason)
    if exception.expires is not None:
        entry.add("expires", _toml_instant(exception.expires))
    origin = tomlkit.comment(
        f"Added by `billdrift review expect {short(fingerprint)}` ({exception.kind.value}), "
        f"by {' '.join(who.splitlines())} on {on.isoformat()}"
    )
    text = origin.as_string() + tomlkit.dumps({"exceptions": [entry]})
    return text.replace("\n", newline)  # strings are escaped: every newline ends a line


def appended_config(original: bytes, entry: str) -> bytes:
    """`original` unchanged, byte for byte, followed by `entry` (after a blank line).

    Text is appended rather than the file re-serialized, so the user's comments,
    ordering and formatting survive. The file's own line ending is kept."""
    newline = "\r\n" if b"\r\n" in original else "\n"
    separator = ""
    if original and not original.endswith(b"\n"):
        separator = newline
    if original:
        separator += newline
    return original + (separator + entry).encode("utf-8")


@dataclass(frozen=True)
class PreparedConfig:
    """A config file with the exception appended, written beside it, not yet in place."""

    target: Path
    staged: Path

    def install(self) -> None:
        """Replace the config atomically (same directory, so os.replace is atomic)."""
        try:
            os.replace(self.staged, self.target)
        except OSError as error:
            self.discard()
            raise BilldriftError(f"cannot write {self.target}: {error.strerror}") from None

    def discard(self) -> None:
        self.staged.unlink(missing_ok=True)


def prepare_exception(
    config_path: Path, exception: AccessException, fingerprint: str, who: str, on: date
) -> PreparedConfig:
    """Stage `config_path` plus the exception, and check the result still loads and
    holds exactly one more exception. Nothing is changed if it does not."""
    try:
        original = config_path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"config file not found: {config_path}; pass --config with the file "
            "`billdrift check --config` reads"
        ) from None
    except OSError as error:
        raise BilldriftError(f"cannot read {config_path}: {error.strerror}") from None
    before = load_config(config_path)
    newline = "\r\n" if b"\r\n" in original else "\n"
    updated = appended_config(original, exception_toml(exception, fingerprint, who, on, newline))
    with tempfile.NamedTemporaryFile(
        "wb", dir=config_path.parent, prefix=f".{config_path.name}.", suffix=".tmp", delete=False
    ) as handle:
        handle.write(updated)
    staged = Path(handle.name)
    try:
        mode = config_path.stat().st_mode & 0o7777
        staged.chmod(mode)
        after = load_config(staged)
    except ConfigError as error:
        staged.unlink(missing_ok=True)
        by_hand = exception_toml(exception, fingerprint, who, on)
        raise ConfigError(
            f"appending the exception to {config_path} would break it, so it was left "
            f"unchanged ({error}); add it by hand:\n{by_hand}"
        ) from None
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    if after.exceptions[: len(before.exceptions)] != before.exceptions or after.exceptions[
        len(before.exceptions) :
    ] != (exception,):
        staged.unlink(missing_ok=True)
        raise ConfigError(
            f"appending to {config_path} did not add exactly this exception; left unchanged"
        )
    return PreparedConfig(config_path, staged)


def expect(
    store: HistoryStore,
    state: FindingState,
    reason: str,
    until: datetime | None,
    config_path: Path,
    who: str,
    at: datetime,
) -> tuple[Review, AccessException]:
    """Record an "expected" decision and append the matching exception to the config.

    Order matters: the new config is staged and validated first; the decision is
    inserted in a transaction that commits only after the config file has been
    replaced, so a failure leaves neither (a crash between the file replace and the
    commit, a tiny window, leaves the exception without its review row: the
    exception is the part that matters, and it carries the same reason).
    """
    exception = exception_for(state, reason, until)
    prepared = prepare_exception(config_path, exception, state.fingerprint, who, at.date())
    review = Review(
        fingerprint=state.fingerprint,
        action="expected",
        note=reason,
        who=who,
        at=at,
        until=until,
        opened_run=state.opened_run,
    )
    try:
        with store.transaction() as tx:
            review_id = tx.add_review(review)
            prepared.install()
    finally:
        prepared.discard()
    return dataclasses.replace(review, review_id=review_id), exception


def notes_text(reviews: Sequence[Review]) -> list[str]:
    """One line per review: when, who, what, until, note."""
    lines = []
    for review in reviews:
        until = f" until {review.until.date().isoformat()}" if review.until else ""
        note = f": {review.note}" if review.note else ""
        lines.append(
            f"{review.at.strftime('%Y-%m-%d %H:%M')}Z {review.who} {review.action}{until}{note}"
        )
    return lines
