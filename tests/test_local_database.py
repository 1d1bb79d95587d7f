"""The local PostgreSQL of `make run`/`make manage`: never left running by a run that ends."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

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
