"""Starting the product: configuration errors say what to fix, and shutdown leaves nothing."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def _env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(overrides)
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _wait_for(url: str, process: subprocess.Popen, *, seconds: float = 30) -> tuple[int, dict]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited early: {process.communicate()}")
        try:
            return _get(url)
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {seconds}s")


def _url_of_the_test_database() -> str:
    params = connection.settings_dict
    credentials = quote(params["USER"] or "", safe="")
    if params["PASSWORD"]:
        credentials += ":" + quote(params["PASSWORD"], safe="")
    host, port = params["HOST"] or "", params["PORT"] or ""
    if host.startswith("/"):
        return f"postgresql://{credentials}@/{params['NAME']}?host={quote(host)}"
    return f"postgresql://{credentials}@{host}{':' + str(port) if port else ''}/{params['NAME']}"


def test_make_run_without_postgres_binaries_fails_fast_with_one_line():
    env = _env(
        PATH="/usr/bin:/bin", CHATBOT_PG_SEARCH_DIRS="/nonexistent/*/bin", DJANGO_DEBUG="true"
    )

    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "chatbot.launcher"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert time.monotonic() - started < 15
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "initdb" in lines[0]
    assert "install PostgreSQL" in lines[0]
    assert "DATABASE_URL" in lines[0]


@pytest.mark.parametrize("secret_key", ["", "django-insecure-" + "x" * 60, "short"])
def test_production_refuses_to_start_without_a_real_secret_key(secret_key):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=_env(DJANGO_SECRET_KEY=secret_key),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be a random string" in result.stderr


def _settings_in_subprocess(**env: str) -> dict:
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps({k: settings.DATABASES['default'][k] for k in "
        "('NAME', 'HOST', 'CONN_MAX_AGE', 'DISABLE_SERVER_SIDE_CURSORS', 'OPTIONS')}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_env(DJANGO_SETTINGS_MODULE="chatbot.settings", DJANGO_DEBUG="true", **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def test_database_url_and_pool_size_come_from_the_environment():
    database = _settings_in_subprocess(
        DATABASE_URL="postgres://app:pw@db.internal:5433/chatbot_prod", DATABASE_POOL_MAX_SIZE="25"
    )

    assert database["NAME"] == "chatbot_prod"
    assert database["HOST"] == "db.internal"
    assert database["CONN_MAX_AGE"] == 0
    assert database["OPTIONS"]["pool"]["max_size"] == 25
    assert database["DISABLE_SERVER_SIDE_CURSORS"] is False


def test_pgbouncer_mode_turns_off_the_pool_and_server_side_cursors():
    database = _settings_in_subprocess(
        DATABASE_URL="postgres://app@pgbouncer:6432/chatbot", DATABASE_PGBOUNCER="true"
    )

    assert "pool" not in database["OPTIONS"]
    assert database["OPTIONS"]["prepare_threshold"] is None
    assert database["DISABLE_SERVER_SIDE_CURSORS"] is True


def test_healthz_names_the_database_when_it_cannot_be_reached(tmp_path):
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--no-worker", "--port", str(port)],
        cwd=ROOT,
        env=_env(
            DATABASE_URL=f"postgresql://postgres@/nowhere?host={tmp_path}",
            DATABASE_POOL_TIMEOUT="1",
            DJANGO_DEBUG="true",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        status, body = _wait_for(f"http://127.0.0.1:{port}/healthz", server)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    assert status == 503
    assert body == {"status": "unavailable", "database": "unavailable"}


@pytest.mark.django_db(transaction=True)
def test_serve_answers_health_checks_and_stops_cleanly_on_sigterm():
    database_url = _url_of_the_test_database()
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=_env(DATABASE_URL=database_url, DJANGO_DEBUG="true"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        status, body = _wait_for(f"http://127.0.0.1:{port}/healthz", server)
        assert (status, body) == (200, {"status": "ok", "database": "ok"})
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)

    assert server.returncode == 0, stderr
    assert "Job worker running" in stderr
    assert "Stopped" in stderr


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in command:
            found.append(command)
    return found


def test_make_run_serves_on_a_local_cluster_and_ctrl_c_leaves_no_process_behind():
    data_dir = Path(tempfile.mkdtemp(prefix="cb-run-"))
    port = _free_port()
    launcher = subprocess.Popen(
        [sys.executable, "-m", "chatbot.launcher"],
        cwd=ROOT,
        env=_env(CHATBOT_DATA_DIR=str(data_dir), PORT=str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        status, body = _wait_for(f"http://127.0.0.1:{port}/healthz", launcher, seconds=60)
        assert (status, body) == (200, {"status": "ok", "database": "ok"})
        assert _processes_mentioning(str(data_dir)), "the local PostgreSQL should be running"
    finally:
        launcher.send_signal(signal.SIGINT)
        _, stderr = launcher.communicate(timeout=60)
        leftovers = _processes_mentioning(str(data_dir))
        shutil.rmtree(data_dir, ignore_errors=True)

    assert launcher.returncode == 0, stderr
    assert leftovers == []


@pytest.mark.parametrize(
    "name", ["CHATBOT_RELEASE_NOTES_CONCURRENCY", "CHATBOT_RELEASE_NOTES_BATCH_SIZE"]
)
def test_release_notes_batching_settings_must_be_at_least_one(name):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=_env(DJANGO_DEBUG="true", **{name: "0"}),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert f'"{name}" invalid' in result.stderr
    assert "greater than or equal to 1" in result.stderr
