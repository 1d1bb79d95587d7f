"""A local PostgreSQL cluster run from the server binaries installed on this machine.

The product needs only PostgreSQL, and a newcomer should not have to install and configure a
server to try it or to run its tests. The cluster listens on a Unix socket only, so it never
fights another server for a port. PostgreSQL refuses to run as root; when we are root the
server runs as the unprivileged ``postgres`` system user, which then owns its directories.

Nobody else on the machine gets in: the socket's directory is the owner's alone (0700), and the
server asks for a password (scram-sha-256), generated at ``initdb`` and kept in the data
directory as a libpq password file (``chatbot.pgpass``, 0600) that the product's connections
name with ``passfile``. A cluster created before this (trust authentication) is switched over
at its next start.

Who uses a cluster is recorded with a lock file beside its socket: every :func:`running` block
holds a shared ``flock`` on it while it runs, and the last one out stops the server, whoever
started it. The kernel drops the lock of a process that dies however it dies, so a server
orphaned by a killed run is stopped by the next run that finishes, instead of running forever.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import glob
import logging
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

logger = logging.getLogger(__name__)

SERVICE_USER = "postgres"
SUPERUSER = "postgres"
PASSFILE = "chatbot.pgpass"  # in the data directory
# Only local (socket) connections exist: listen_addresses is empty.
_HBA = (
    "# Written by chatbot/embedded_postgres.py: socket connections only, with the password in\n"
    f"# {PASSFILE}.\n"
    "local all all scram-sha-256\n"
)
_USUAL_BIN_DIRS = (
    "/usr/lib/postgresql/*/bin",
    "/usr/pgsql-*/bin",
    "/usr/local/pgsql/bin",
    "/opt/homebrew/opt/postgresql@*/bin",
    "/usr/local/opt/postgresql@*/bin",
)


class PostgresNotFound(Exception):
    """The initdb/pg_ctl binaries are not on this machine."""


class PostgresFailed(Exception):
    """A PostgreSQL command failed; the message carries its output."""


def find_bin_dir() -> Path:
    """Find the directory holding ``initdb`` and ``pg_ctl``: PATH first, then usual places.

    ``CHATBOT_PG_SEARCH_DIRS`` (glob patterns separated like PATH) replaces the usual places.
    """
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    override = os.environ.get("CHATBOT_PG_SEARCH_DIRS")
    patterns = override.split(os.pathsep) if override is not None else _USUAL_BIN_DIRS
    candidates = [Path(p) for pattern in patterns if pattern for p in glob.glob(pattern)]
    usable = [d for d in candidates if (d / "pg_ctl").is_file() and (d / "initdb").is_file()]
    if not usable:
        raise PostgresNotFound(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: install PostgreSQL "
            "(e.g. `apt-get install postgresql`) or set DATABASE_URL to an existing server."
        )
    return max(usable, key=_version_key)


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", str(path))) or (0,)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Cluster:
    """One cluster: its data directory, the directory of its socket, and how to run it."""

    data_dir: Path
    socket_dir: Path
    bin_dir: Path
    durable: bool = True

    @property
    def _run_as(self) -> str | None:
        return SERVICE_USER if os.geteuid() == 0 else None

    @property
    def log_file(self) -> Path:
        return self.socket_dir / "postgres.log"

    @property
    def passfile(self) -> Path:
        return self.data_dir / PASSFILE

    def url(self, *, dbname: str) -> str:
        # Percent-encoded: a data directory's path may hold spaces.
        host, passfile = quote(str(self.socket_dir)), quote(str(self.passfile))
        return f"postgresql://{SUPERUSER}@/{dbname}?host={host}&passfile={passfile}"

    def is_initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def initialise(self) -> None:
        self._prepare_dir(self.data_dir, mode=0o700)
        self.prepare_socket_dir()
        password = secrets.token_urlsafe(32)
        # initdb reads the password from a file the service user can read, and wants the data
        # directory empty: a file in the (private) socket directory for the while.
        pwfile = self.socket_dir / ".initdb-password"
        self._write_private(pwfile, password + "\n")
        try:
            self._run(
                "initdb",
                "--pgdata",
                str(self.data_dir),
                "--username",
                SUPERUSER,
                "--auth",
                "scram-sha-256",
                "--pwfile",
                str(pwfile),
                "--encoding",
                "UTF8",
                "--locale",
                "C.UTF-8",
                *([] if self.durable else ["--no-sync"]),
            )
        finally:
            pwfile.unlink(missing_ok=True)
        (self.data_dir / "pg_hba.conf").write_text(_HBA)
        self._write_passfile(password)

    def require_password(self) -> None:
        """Switch a running cluster created with trust authentication to passwords, once."""
        if self.passfile.exists():
            return
        import psycopg
        from psycopg import sql

        password = secrets.token_urlsafe(32)
        try:
            with psycopg.connect(
                f"postgresql://{SUPERUSER}@/postgres?host={self.socket_dir}", autocommit=True
            ) as conn:
                conn.execute("SET password_encryption = 'scram-sha-256'")
                conn.execute(
                    sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                        sql.Identifier(SUPERUSER), sql.Literal(password)
                    )
                )
        except psycopg.OperationalError as error:
            raise PostgresFailed(
                f"the cluster in {self.data_dir} asks for a password and its password file "
                f"{self.passfile} is missing; restore it, or delete {self.data_dir} to start "
                f"with an empty database ({str(error).strip()})"
            ) from error
        self._write_passfile(password)
        (self.data_dir / "pg_hba.conf").write_text(_HBA)
        self._run("pg_ctl", "--pgdata", str(self.data_dir), "reload")
        logger.info(
            "Switched the PostgreSQL cluster in %s to password authentication", self.data_dir
        )

    def _write_passfile(self, password: str) -> None:
        # libpq ignores a password file that group or others can read.
        self._write_private(self.passfile, f"*:*:*:{SUPERUSER}:{password}\n")

    def _write_private(self, path: Path, text: str) -> None:
        """Write ``text`` readable by its owner only: the service user when we are root."""
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            os.fchmod(file.fileno(), 0o600)
            if self._run_as:
                entry = pwd.getpwnam(self._run_as)
                os.fchown(file.fileno(), entry.pw_uid, entry.pw_gid)
            file.write(text)

    def start(self) -> bool:
        """Start the server; return False when it was already running."""
        self.prepare_socket_dir()
        if self.is_running():
            return False
        server_options = [
            "-c listen_addresses=''",
            f"-c unix_socket_directories='{self.socket_dir}'",
            "-c max_connections=300",
        ]
        if not self.durable:
            server_options += [
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
            ]
        self._run(
            "pg_ctl",
            "--pgdata",
            str(self.data_dir),
            "--log",
            str(self.log_file),
            "--options",
            " ".join(server_options),
            "--wait",
            "start",
        )
        return True

    def is_running(self) -> bool:
        completed = subprocess.run(
            self._command("pg_ctl", "--pgdata", str(self.data_dir), "status"),
            capture_output=True,
            check=False,
        )
        return completed.returncode == 0

    def stop(self) -> None:
        if self.is_initialised() and self.is_running():
            self._run("pg_ctl", "--pgdata", str(self.data_dir), "--mode", "fast", "--wait", "stop")

    def create_database(self, *, name: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url(dbname="postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def prepare_socket_dir(self) -> None:
        # The owner's alone: no other local user reaches the socket (nor the log beside it).
        self._prepare_dir(self.socket_dir, mode=0o700)

    def _prepare_dir(self, path: Path, *, mode: int) -> None:
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(mode)
        if self._run_as:
            entry = pwd.getpwnam(self._run_as)
            os.chown(path, entry.pw_uid, entry.pw_gid)
            for parent in path.parents:
                # The service user must be able to reach its directories: let others traverse
                # (not list) each parent, and say so, since it changes the machine's permissions.
                parent_mode = parent.stat().st_mode
                if parent_mode & 0o001 == 0:
                    parent.chmod(parent_mode | 0o001)
                    logger.info(
                        "Allowed others to traverse %s (mode %o -> %o) so the %s user can reach %s",
                        parent,
                        parent_mode & 0o7777,
                        (parent_mode | 0o001) & 0o7777,
                        self._run_as,
                        path,
                    )

    def _command(self, program: str, *args: str) -> list[str]:
        command = [str(self.bin_dir / program), *args]
        if self._run_as:
            return ["runuser", "-u", self._run_as, "--", *command]
        return command

    def _run(self, program: str, *args: str) -> None:
        # A new session keeps the server out of the terminal's process group, so Ctrl-C
        # reaches the application, which then stops the server in order.
        completed = subprocess.run(
            self._command(program, *args),
            capture_output=True,
            text=True,
            check=False,
            start_new_session=True,
            cwd="/",
        )
        if completed.returncode != 0:
            log = (
                self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            )
            raise PostgresFailed(
                f"{program} failed ({completed.returncode}): "
                f"{completed.stdout}{completed.stderr}{log}".strip()
            )


def service_user_exists() -> bool:
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        return False
    return True


def check_can_run() -> Path:
    """Return the binary directory, or raise with the one line that says what to install."""
    bin_dir = find_bin_dir()
    if os.geteuid() == 0 and not service_user_exists():
        raise PostgresNotFound(
            f"running as root needs the unprivileged '{SERVICE_USER}' system user to run "
            "PostgreSQL: create it or set DATABASE_URL to an existing server."
        )
    return bin_dir


USERS_LOCK = ".users.lock"


@contextlib.contextmanager
def running(*, data_dir: Path, socket_dir: Path, durable: bool = True) -> Iterator[Cluster]:
    """Initialise the cluster on first use, start it, and stop it when the block ends.

    A server that another live block (another ``make run``) uses is shared and left running for
    it; one left behind by a run that died is adopted and stopped at the end.
    """
    cluster = Cluster(
        data_dir=data_dir, socket_dir=socket_dir, bin_dir=check_can_run(), durable=durable
    )
    if not cluster.is_initialised():
        logger.info("Creating a PostgreSQL cluster in %s", data_dir)
        cluster.initialise()
    cluster.prepare_socket_dir()
    # Not inherited by the server (Python opens files close-on-exec), or it would hold the lock.
    users = os.open(socket_dir / USERS_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        alone = _try_lock(users, fcntl.LOCK_EX)
        if not alone:
            # Shared with live users; waits while one of them is stopping the server.
            fcntl.flock(users, fcntl.LOCK_SH)
        try:
            if not cluster.start():
                if alone:
                    logger.info(
                        "Adopting the PostgreSQL server on %s that an earlier run left "
                        "running; it stops when this run ends",
                        socket_dir,
                    )
                else:
                    logger.info("Sharing the PostgreSQL server already running on %s", socket_dir)
            if alone:
                fcntl.flock(users, fcntl.LOCK_SH)
            cluster.require_password()
            yield cluster
        finally:
            with _signals_deferred():
                if _try_lock(users, fcntl.LOCK_EX):
                    cluster.stop()
                else:
                    logger.info("Leaving PostgreSQL running for the other run using it")
    finally:
        os.close(users)


def _try_lock(fd: int, operation: int) -> bool:
    try:
        fcntl.flock(fd, operation | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Let a repeated Ctrl-C (or a forwarded SIGTERM) not interrupt the server's shutdown."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
