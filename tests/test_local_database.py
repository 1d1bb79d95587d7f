"""The local PostgreSQL of `make run`/`make manage`: never left running by a run that ends."""

import os
import pwd
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from chatbot import embedded_postgres

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A launcher data directory whose cluster exists (initdb once for the module)."""
    path = tmp_path_factory.mktemp("launcher-data")
    cluster = _cluster(path)
    cluster.initialise()
    yield path
    cluster.stop()


def _cluster(data_dir: Path) -> embedded_postgres.Cluster:
    return embedded_postgres.Cluster(
        data_dir=data_dir / "postgres",
        socket_dir=data_dir / "run",
        bin_dir=embedded_postgres.check_can_run(),
    )


def _launcher(data_dir: Path, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env["CHATBOT_DATA_DIR"] = str(data_dir)
    return subprocess.Popen(
        [sys.executable, "-m", "chatbot.launcher", *args],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _run_launcher(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    process = _launcher(data_dir, *args)
    stdout, stderr = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _wait_for_line(process: subprocess.Popen, text: str) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        if line.strip() == text:
            return
    raise AssertionError(f"exited ({process.wait()}) before printing {text!r}")


# As during migrations or ingestion: a long command, before any server signal handling.
LONG_COMMAND = "import time; print('working', flush=True); time.sleep(60)"


def test_sigterm_during_a_command_stops_the_local_database_quietly(data_dir):
    launcher = _launcher(data_dir, "shell", "-c", LONG_COMMAND)
    try:
        _wait_for_line(launcher, "working")
        assert _cluster(data_dir).is_running()
        launcher.send_signal(signal.SIGTERM)
        _, stderr = launcher.communicate(timeout=60)
    finally:
        launcher.kill()

    assert launcher.returncode == 128 + signal.SIGTERM, stderr
    assert "Traceback" not in stderr
    assert not _cluster(data_dir).is_running()


def test_a_server_left_running_by_a_run_that_died_is_adopted_and_stopped(data_dir):
    cluster = _cluster(data_dir)
    cluster.start()  # started by a run that was then killed: nobody holds the lock

    result = _run_launcher(data_dir, "check")

    assert result.returncode == 0, result.stderr
    assert "Adopting the PostgreSQL server" in result.stderr
    assert not cluster.is_running()


def test_a_server_another_live_run_uses_is_left_running_for_it(data_dir):
    with embedded_postgres.running(
        data_dir=data_dir / "postgres", socket_dir=data_dir / "run"
    ) as cluster:
        result = _run_launcher(data_dir, "check")
        assert result.returncode == 0, result.stderr
        assert "Sharing the PostgreSQL server" in result.stderr
        assert cluster.is_running()

    assert not cluster.is_running()


def test_ctrl_c_during_a_command_exits_130_without_a_traceback(data_dir):
    launcher = _launcher(data_dir, "shell", "-c", LONG_COMMAND)
    try:
        _wait_for_line(launcher, "working")
        launcher.send_signal(signal.SIGINT)
        _, stderr = launcher.communicate(timeout=60)
    finally:
        launcher.kill()

    # 130, or death by SIGINT itself (what a shell also shows as 130): CPython re-raises the
    # signal at exit when a KeyboardInterrupt escaped exec'd code, as `shell -c` runs it.
    assert launcher.returncode in (130, -signal.SIGINT), stderr
    assert "Traceback" not in stderr
    assert not _cluster(data_dir).is_running()


@pytest.mark.skipif(
    os.geteuid() != 0 or not embedded_postgres.service_user_exists(),
    reason="only root hands directories to the postgres user",
)
def test_making_a_parent_directory_traversable_is_logged(tmp_path, caplog):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    caplog.set_level("INFO", logger="chatbot.embedded_postgres")

    _cluster(private)._prepare_dir(private / "run", mode=0o755)

    assert private.stat().st_mode & 0o001
    assert f"Allowed others to traverse {private} (mode 700 -> 701)" in caplog.text


def _connect_without_password(cluster: embedded_postgres.Cluster) -> None:
    psycopg.connect(f"postgresql://postgres@/postgres?host={cluster.socket_dir}").close()


def _can_connect_with_its_password_file(cluster: embedded_postgres.Cluster) -> bool:
    with psycopg.connect(cluster.url(dbname="postgres")) as conn:
        return conn.execute("SELECT 1").fetchone() == (1,)


def test_the_local_database_is_the_owners_alone_and_asks_for_its_password(tmp_path):
    with embedded_postgres.running(
        data_dir=tmp_path / "postgres", socket_dir=tmp_path / "run", durable=False
    ) as cluster:
        with pytest.raises(psycopg.OperationalError, match="password"):
            _connect_without_password(cluster)
        assert _can_connect_with_its_password_file(cluster)
        socket_dir = cluster.socket_dir.stat()
        passfile = cluster.passfile.stat()

    assert stat.S_IMODE(socket_dir.st_mode) == 0o700
    assert stat.S_IMODE(passfile.st_mode) == 0o600
    # As root the server runs as the service user, which must own (and so read) both.
    owner = pwd.getpwnam(embedded_postgres.SERVICE_USER).pw_uid if os.geteuid() == 0 else None
    assert socket_dir.st_uid == passfile.st_uid == (owner if owner is not None else os.geteuid())


def test_a_cluster_created_with_trust_authentication_asks_for_a_password_from_its_next_start(
    tmp_path, caplog
):
    cluster = embedded_postgres.Cluster(
        data_dir=tmp_path / "postgres",
        socket_dir=tmp_path / "run",
        bin_dir=embedded_postgres.check_can_run(),
        durable=False,
    )
    cluster._prepare_dir(cluster.data_dir, mode=0o700)
    cluster._run(  # as the code before passwords created clusters
        *("initdb", "--pgdata", str(cluster.data_dir), "--username", "postgres"),
        *("--auth", "trust", "--no-sync"),
    )
    caplog.set_level("INFO", logger="chatbot.embedded_postgres")

    with embedded_postgres.running(
        data_dir=cluster.data_dir, socket_dir=cluster.socket_dir, durable=False
    ):
        with pytest.raises(psycopg.OperationalError, match="password"):
            _connect_without_password(cluster)
        assert _can_connect_with_its_password_file(cluster)

    assert "Switched the PostgreSQL cluster" in caplog.text
    assert stat.S_IMODE(cluster.passfile.stat().st_mode) == 0o600


def test_a_data_directory_with_spaces_gives_a_url_psycopg_reads(tmp_path):
    root = tmp_path / "my data"
    cluster = embedded_postgres.Cluster(
        data_dir=root / "postgres", socket_dir=root / "run", bin_dir=tmp_path
    )
    params = conninfo_to_dict(cluster.url(dbname="chatbot"))
    assert params["host"] == str(root / "run")
    assert params["passfile"] == str(root / "postgres" / embedded_postgres.PASSFILE)
