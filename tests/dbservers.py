"""Throwaway PostgreSQL and MariaDB servers for tests: real servers, temp dirs, free ports.

Why real servers: the database sources must be tested against the wire protocol, auth and
SQL dialect they will meet in production; an in-process fake would hide exactly the bugs
(bad password handling, type mapping, quoting) those tests exist to find.

Each server lives in its own ``tempfile.mkdtemp`` directory (data, unix socket, log), listens
on 127.0.0.1 on a port picked at runtime, and is deleted by ``stop()``. Every started server
is also stopped by an ``atexit`` hook if a test run crashes, and a server left behind by a
run that was killed outright (SIGKILL, CI timeout) is reaped by the next start.

No pytest import here on purpose: the fixtures in tests/conftest.py wrap these classes, and
the classes can also be used from a plain Python shell to debug a failing test.

Binaries come from Debian's ``postgresql`` and ``mariadb-server`` packages, installed by
``scripts/install_test_servers.sh`` (which ``make test`` runs).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

INSTALL_HINT = "run `bash scripts/install_test_servers.sh` (as root) to install them"

#: Prefixes of the temp dirs, so a later run can find servers a killed run left behind.
PG_PREFIX = "billdrift-pg-"
MARIADB_PREFIX = "billdrift-mariadb-"
#: File in each temp dir holding the pid of the Python process that owns the server.
OWNER_FILE = "owner.pid"
#: File in each temp dir holding the server's pid (PostgreSQL keeps its own postmaster.pid).
SERVER_PID_FILE = "server.pid"

ADMIN_USER = "admin"
ADMIN_PASSWORD = "adminpw"
TEST_DATABASE = "testdb"
MARIADB_ROOT_PASSWORD = "rootpw"

LOG_TAIL_LINES = 40
#: Generous: another job may be running CPU benchmarks on the same 2-core machine.
START_TIMEOUT_S = 60.0
#: How many fresh ports to try when the picked one was taken between pick and bind.
PORT_ATTEMPTS = 3


class BinariesMissingError(RuntimeError):
    """The server binaries are not installed; the message says how to install them."""


class ServerStartError(RuntimeError):
    """A server did not come up; the message carries the tail of its log."""


class _Stoppable(Protocol):
    def stop(self) -> None: ...


_live: list[_Stoppable] = []
_live_lock = threading.Lock()


def _register(server: _Stoppable) -> None:
    with _live_lock:
        _live.append(server)


def _unregister(server: _Stoppable) -> None:
    with _live_lock:
        if server in _live:
            _live.remove(server)


@atexit.register
def stop_all() -> None:
    """Stop every server still running: a crashed or interrupted run must not leak them."""
    with _live_lock:
        servers = list(reversed(_live))
    for server in servers:
        with contextlib.suppress(Exception):
            server.stop()


def free_port() -> int:
    """Ask the kernel for a free TCP port on 127.0.0.1.

    The port is free when this returns, not guaranteed when the server binds it; callers
    retry with a new port when the server reports the address is in use.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of a log file, or a note that it does not exist (for error messages)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"(no log at {path}: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def _is_root() -> bool:
    return os.geteuid() == 0


def _as_user(user: str, argv: Sequence[str]) -> list[str]:
    """Run argv as `user` when we are root (initdb and pg_ctl refuse to run as root)."""
    if _is_root():
        return ["runuser", "-u", user, "--", *argv]
    return list(argv)


def _chown_if_root(path: Path, user: str) -> None:
    if _is_root():
        shutil.chown(path, user=user, group=user)


def _make_temp_dir(prefix: str, owner: str) -> Path:
    """A private temp dir owned by the server's user, recording which process owns it."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    (tmp / OWNER_FILE).write_text(str(os.getpid()), encoding="ascii")
    _chown_if_root(tmp, owner)
    return tmp


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_if_serving(pid: int, datadir: Path) -> None:
    """SIGKILL pid only if it is really the server of `datadir` (guards against pid reuse)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return
    if str(datadir).encode() in cmdline:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def _read_pid(path: Path) -> int | None:
    try:
        first = path.read_text(encoding="ascii", errors="replace").split("\n", 1)[0].strip()
        return int(first)
    except (OSError, ValueError):
        return None


def reap_orphans(prefix: str) -> None:
    """Kill servers and delete temp dirs left by a run whose Python process died.

    atexit does not run on SIGKILL (CI timeout, OOM killer); without this, each such run
    would leave a server and its data behind until the machine is recycled.
    """
    for tmp in Path(tempfile.gettempdir()).glob(prefix + "*"):
        owner = _read_pid(tmp / OWNER_FILE)
        if owner is None or _pid_alive(owner):
            continue
        datadir = tmp / "data"
        for pid_file in (datadir / "postmaster.pid", tmp / SERVER_PID_FILE):
            pid = _read_pid(pid_file)
            if pid is not None:
                _kill_if_serving(pid, datadir)
        shutil.rmtree(tmp, ignore_errors=True)


def _which(name: str, extra_dirs: Sequence[str] = ("/usr/sbin", "/usr/bin")) -> str | None:
    """shutil.which, also looking in sbin dirs that a non-root PATH often lacks."""
    found = shutil.which(name)
    if found:
        return found
    for directory in extra_dirs:
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def find_postgres_bindir(pg_root: Path = Path("/usr/lib/postgresql")) -> Path:
    """The newest PostgreSQL bin dir holding initdb, pg_ctl and postgres.

    Debian keeps them out of PATH under /usr/lib/postgresql/VERSION/bin; PATH is the
    fallback for other layouts.
    """
    needed = ("initdb", "pg_ctl", "postgres")

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))

    for bindir in sorted(pg_root.glob("*/bin"), key=version, reverse=True):
        if all(os.access(bindir / tool, os.X_OK) for tool in needed):
            return bindir
    initdb = shutil.which("initdb")
    if initdb:
        bindir = Path(initdb).resolve().parent
        if all(os.access(bindir / tool, os.X_OK) for tool in needed):
            return bindir
    raise BinariesMissingError(
        f"PostgreSQL server binaries (initdb, pg_ctl, postgres) not found under {pg_root}/*/bin "
        f"or on PATH; {INSTALL_HINT}"
    )


def find_mariadb_tools() -> dict[str, str]:
    """Paths of mariadbd, mariadb-install-db and mariadb-admin, or a clear error."""
    tools = {name: _which(name) for name in ("mariadbd", "mariadb-install-db", "mariadb-admin")}
    missing = sorted(name for name, path in tools.items() if path is None)
    if missing:
        raise BinariesMissingError(
            f"MariaDB binaries missing: {', '.join(missing)}; {INSTALL_HINT}"
        )
    return {name: path for name, path in tools.items() if path is not None}


def _run(argv: Sequence[str], what: str, log: Path | None = None) -> str:
    """Run a set-up command; on failure raise ServerStartError with its output."""
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = f"\n--- {log} ---\n{log_tail(log)}" if log is not None else ""
        raise ServerStartError(
            f"{what} failed (exit {proc.returncode}): {shlex.join(argv)}\n"
            f"{proc.stdout}{proc.stderr}{tail}"
        )
    return proc.stdout


class PostgresServer:
    """A throwaway PostgreSQL cluster on 127.0.0.1:<free port>, started by the constructor.

    Auth is real where it matters: TCP logins need a password (scram-sha-256), except for
    the bootstrap superuser ``postgres`` which is trusted so ``url`` needs none. Unix-socket
    logins are trusted (set-up runs through the socket). ``admin`` / ``adminpw`` is a
    superuser that must give its password; ``testdb`` is an empty database it owns.

    Attributes: ``url`` (postgres, no password, database postgres), ``admin_url`` (admin with
    password, database testdb), ``host``, ``port``, ``socket_dir``, ``startup_seconds``.
    """

    def __init__(self, server_options: Sequence[str] = ()) -> None:
        """Create and start the cluster; extra ``-c name=value`` settings go in server_options.

        fsync, full_page_writes and synchronous_commit are off: the data is thrown away,
        and durability would only slow the tests down.
        """
        started = time.monotonic()
        self.bindir = find_postgres_bindir()
        reap_orphans(PG_PREFIX)
        self.host = "127.0.0.1"
        self.port = 0
        self.tmp = _make_temp_dir(PG_PREFIX, "postgres")
        self.socket_dir = self.tmp
        self.datadir = self.tmp / "data"
        self.log = self.tmp / "server.log"
        try:
            _run(
                _as_user(
                    "postgres",
                    [
                        str(self.bindir / "initdb"),
                        "-D",
                        str(self.datadir),
                        "-U",
                        "postgres",
                        "-A",
                        "trust",
                        "-E",
                        "UTF8",
                        "--no-locale",
                        "--no-sync",
                        "--no-instructions",
                    ],
                ),
                "initdb",
            )
            # initdb's -A sets one method for socket and TCP alike; we need two.
            (self.datadir / "pg_hba.conf").write_text(
                "local all all                  trust\n"
                "host  all postgres 127.0.0.1/32 trust\n"
                "host  all all      127.0.0.1/32 scram-sha-256\n",
                encoding="utf-8",
            )
            self._start(server_options)
            _register(self)
            self._bootstrap()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started

    @property
    def url(self) -> str:
        """The bootstrap superuser over TCP, no password (trusted for this user only)."""
        return f"postgresql://postgres@{self.host}:{self.port}/postgres"

    @property
    def admin_url(self) -> str:
        """The password-protected superuser ``admin`` on database ``testdb``."""
        return self.url_for(ADMIN_USER, ADMIN_PASSWORD, TEST_DATABASE)

    def url_for(self, user: str, password: str | None = None, database: str = "postgres") -> str:
        """A TCP URL for any user, e.g. to check that a wrong password is refused."""
        auth = user if password is None else f"{user}:{password}"
        return f"postgresql://{auth}@{self.host}:{self.port}/{database}"

    def _start(self, server_options: Sequence[str]) -> None:
        for _attempt in range(PORT_ATTEMPTS):
            self.port = free_port()
            options = [
                f"-k {shlex.quote(str(self.socket_dir))}",
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                "-c fsync=off",
                "-c full_page_writes=off",
                "-c synchronous_commit=off",
                *(f"-c {shlex.quote(opt)}" for opt in server_options),
            ]
            argv = _as_user(
                "postgres",
                [
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.datadir),
                    "-l",
                    str(self.log),
                    "-w",
                    "-t",
                    str(int(START_TIMEOUT_S)),
                    "-s",
                    "-o",
                    " ".join(options),
                    "start",
                ],
            )
            proc = subprocess.run(argv, capture_output=True, text=True, check=False)
            if proc.returncode == 0:
                return
            tail = log_tail(self.log)
            if "Address already in use" not in tail:
                raise ServerStartError(
                    f"PostgreSQL did not start (pg_ctl exit {proc.returncode}) on port "
                    f"{self.port}: {proc.stdout}{proc.stderr}\n--- {self.log} ---\n{tail}"
                )
        raise ServerStartError(
            f"PostgreSQL: no free port after {PORT_ATTEMPTS} tries\n--- {self.log} ---\n"
            f"{log_tail(self.log)}"
        )

    def _bootstrap(self) -> None:
        import psycopg

        with psycopg.connect(
            host=str(self.socket_dir),
            port=self.port,
            user="postgres",
            dbname="postgres",
            autocommit=True,
        ) as conn:
            conn.execute(f"CREATE ROLE {ADMIN_USER} LOGIN SUPERUSER PASSWORD '{ADMIN_PASSWORD}'")
            conn.execute(f"CREATE DATABASE {TEST_DATABASE} OWNER {ADMIN_USER}")

    def execute(
        self, sql: str, params: Sequence[Any] | None = None, database: str = TEST_DATABASE
    ) -> list[tuple[Any, ...]]:
        """Run one statement as ``admin`` over TCP (autocommit); return its rows, if any.

        Over TCP with the password on purpose: set-up done by tests then goes through the
        same path as the code under test.
        """
        import psycopg

        with psycopg.connect(
            self.url_for(ADMIN_USER, ADMIN_PASSWORD, database), autocommit=True
        ) as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description is not None else []

    def stop(self) -> None:
        """Stop at once (``pg_ctl -m immediate``: the data is discarded) and delete the dir.

        Keyed on postmaster.pid rather than a flag, so a start that timed out (postmaster
        up but not ready) is still stopped.
        """
        if (self.datadir / "postmaster.pid").exists():
            pg_ctl = [str(self.bindir / "pg_ctl"), "-D", str(self.datadir)]
            proc = subprocess.run(
                _as_user("postgres", [*pg_ctl, "-m", "immediate", "-w", "-t", "10", "-s", "stop"]),
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                pid = _read_pid(self.datadir / "postmaster.pid")
                if pid is not None:
                    _kill_if_serving(pid, self.datadir)
        _unregister(self)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __repr__(self) -> str:
        return f"PostgresServer(port={self.port}, dir={self.tmp})"


class MariaDBServer:
    """A throwaway MariaDB server on 127.0.0.1:<free port>, started by the constructor.

    Privileges are real (no --skip-grant-tables): every account has a password. ``root``
    (password ``rootpw``) exists for localhost, 127.0.0.1 and ::1; ``admin`` / ``adminpw``
    has ALL PRIVILEGES WITH GRANT OPTION; ``testdb`` is an empty database. The server runs
    with --skip-name-resolve, so TCP logins match the '127.0.0.1' accounts.

    Attributes: ``url`` (root with password, database testdb), ``admin_url`` (admin with
    password, database testdb), ``host``, ``port``, ``socket``, ``startup_seconds``.
    """

    def __init__(self, server_options: Sequence[str] = ()) -> None:
        """Install a data dir, start mariadbd, wait for ping, then set passwords and users.

        server_options are extra ``--name=value`` mariadbd options.
        """
        started = time.monotonic()
        self.tools = find_mariadb_tools()
        reap_orphans(MARIADB_PREFIX)
        self.host = "127.0.0.1"
        self.port = 0
        self.tmp = _make_temp_dir(MARIADB_PREFIX, "mysql")
        self.datadir = self.tmp / "data"
        self.socket = self.tmp / "mysqld.sock"
        self.log = self.tmp / "server.log"
        self._proc: subprocess.Popen[bytes] | None = None
        user = ["--user=mysql"] if _is_root() else []
        # Small redo log and buffer pool: fast to create, and test data is tiny.
        common = [
            "--innodb-log-file-size=16M",
            "--innodb-buffer-pool-size=64M",
            "--skip-name-resolve",
            *server_options,
        ]
        try:
            _run(
                [
                    self.tools["mariadb-install-db"],
                    "--no-defaults",  # must come first; ignore /etc/mysql
                    *user,
                    f"--datadir={self.datadir}",
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                    *common,
                ],
                "mariadb-install-db",
            )
            self._start(user, common)
            _register(self)
            self._bootstrap()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started

    @property
    def url(self) -> str:
        """``root`` with its password over TCP, on database ``testdb``."""
        return self.url_for("root", MARIADB_ROOT_PASSWORD, TEST_DATABASE)

    @property
    def admin_url(self) -> str:
        """The password-protected superuser ``admin`` on database ``testdb``."""
        return self.url_for(ADMIN_USER, ADMIN_PASSWORD, TEST_DATABASE)

    def url_for(self, user: str, password: str | None = None, database: str = TEST_DATABASE) -> str:
        """A TCP URL for any user, e.g. to check that a wrong password is refused."""
        auth = user if password is None else f"{user}:{password}"
        return f"mysql://{auth}@{self.host}:{self.port}/{database}"

    def _start(self, user: list[str], common: list[str]) -> None:
        for _attempt in range(PORT_ATTEMPTS):
            self.port = free_port()
            argv = [
                self.tools["mariadbd"],
                "--no-defaults",
                *user,
                f"--datadir={self.datadir}",
                f"--socket={self.socket}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                "--skip-log-bin",
                f"--pid-file={self.tmp / SERVER_PID_FILE}",
                *common,
            ]
            with self.log.open("ab") as log:
                self._proc = subprocess.Popen(
                    argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
                )
            if self._wait_ready():
                return
            tail = log_tail(self.log)
            self._kill()
            if "already in use" not in tail and "Address in use" not in tail:
                raise ServerStartError(
                    f"MariaDB did not start on port {self.port}: {shlex.join(argv)}\n"
                    f"--- {self.log} ---\n{tail}"
                )
        raise ServerStartError(
            f"MariaDB: no free port after {PORT_ATTEMPTS} tries\n--- {self.log} ---\n"
            f"{log_tail(self.log)}"
        )

    def _wait_ready(self) -> bool:
        """Poll ``mariadb-admin ping`` until it answers; False if mariadbd died first.

        ping exits 0 whenever the server answers, even before our users exist.
        """
        assert self._proc is not None
        ping = [
            self.tools["mariadb-admin"],
            "--no-defaults",
            f"--socket={self.socket}",
            "--user=root",
            "--connect-timeout=2",
            "ping",
        ]
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            if self.socket.exists():
                done = subprocess.run(ping, capture_output=True, check=False)
                if done.returncode == 0:
                    return True
            time.sleep(0.05)
        tail = log_tail(self.log)
        self._kill()
        raise ServerStartError(
            f"MariaDB did not answer ping within {START_TIMEOUT_S:.0f} s\n"
            f"--- {self.log} ---\n{tail}"
        )

    def _bootstrap(self) -> None:
        import pymysql

        conn = pymysql.connect(unix_socket=str(self.socket), user="root", autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute(f"CREATE DATABASE {TEST_DATABASE}")
                for host in ("localhost", "127.0.0.1"):
                    cur.execute(
                        f"CREATE USER '{ADMIN_USER}'@'{host}' IDENTIFIED BY '{ADMIN_PASSWORD}'"
                    )
                    cur.execute(
                        f"GRANT ALL PRIVILEGES ON *.* TO '{ADMIN_USER}'@'{host}' WITH GRANT OPTION"
                    )
                # install-db also makes root@<hostname>, useless under --skip-name-resolve.
                cur.execute("SELECT User, Host FROM mysql.user WHERE User IN ('root', '')")
                accounts: list[tuple[str, str]] = list(cur.fetchall())
                for name, host in accounts:
                    if name == "root" and host in ("localhost", "127.0.0.1", "::1"):
                        cur.execute(
                            "ALTER USER %s@%s IDENTIFIED BY %s",
                            (name, host, MARIADB_ROOT_PASSWORD),
                        )
                    else:
                        cur.execute("DROP USER %s@%s", (name, host))
        finally:
            conn.close()

    def execute(
        self, sql: str, params: Sequence[Any] | None = None, database: str = TEST_DATABASE
    ) -> list[tuple[Any, ...]]:
        """Run one statement as ``admin`` over TCP (autocommit); return its rows, if any."""
        import pymysql

        conn = pymysql.connect(
            host=self.host,
            port=self.port,
            user=ADMIN_USER,
            password=ADMIN_PASSWORD,
            database=database,
            autocommit=True,
        )
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return list(cur.fetchall()) if cur.description is not None else []
        finally:
            conn.close()

    def _kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=30)
        self._proc = None

    def stop(self) -> None:
        """Kill mariadbd at once (SIGKILL: the data is discarded) and delete the dir."""
        self._kill()
        _unregister(self)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __repr__(self) -> str:
        return f"MariaDBServer(port={self.port}, dir={self.tmp})"
