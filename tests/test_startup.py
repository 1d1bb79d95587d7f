"""Starting the product: configuration errors say what to fix, and shutdown leaves nothing."""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import procrastinate
import psycopg
import pytest
from django.db import connection
from procrastinate.contrib.django import app as job_app
from psycopg import sql

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
        url = f"postgresql://{credentials}@/{params['NAME']}?host={quote(host)}"
        if passfile := params["OPTIONS"].get("passfile"):
            url += f"&passfile={quote(passfile)}"  # the test run's own cluster
        return url
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
    # One line that says what to set, never a traceback.
    assert result.stderr.strip().splitlines() == [
        "chatbot: DJANGO_SECRET_KEY must be a random string of at least 50 characters "
        "(or set DJANGO_DEBUG=true for local development)."
    ]


@pytest.mark.parametrize(
    ("name", "value"),
    [("DATABASE_URL", "not a url"), ("PORT", "eighty"), ("DJANGO_SECURE_COOKIES", "maybe")],
)
def test_a_setting_that_cannot_be_read_gives_one_line_naming_it(name, value):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=_env(DJANGO_DEBUG="true", **{name: value}),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f'chatbot: Environment variable "{name}" invalid')


def test_escalation_routes_that_cannot_be_read_give_one_line_naming_the_pair():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=_env(DJANGO_DEBUG="true", CHATBOT_ESCALATION_ROUTES="C1=C2,#deploys"),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("chatbot: CHATBOT_ESCALATION_ROUTES")
    assert "'#deploys'" in line


def _json_from_django_in_subprocess(expression: str, **env: str) -> dict:
    """What ``expression`` gives in a fresh process configured by ``env`` (settings are read
    once, at import)."""
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "from procrastinate.contrib.django import app; "
        f"print(json.dumps({expression}, default=repr))"
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


def _settings_in_subprocess(**env: str) -> dict:
    return _json_from_django_in_subprocess(
        "{k: settings.DATABASES['default'][k] for k in "
        "('NAME', 'HOST', 'CONN_MAX_AGE', 'DISABLE_SERVER_SIDE_CURSORS', 'OPTIONS')}",
        **env,
    )


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


def _worker_options_in_subprocess(**env: str) -> dict:
    return _json_from_django_in_subprocess(
        "{'listen_notify': app.worker_defaults.get('listen_notify', True), "
        "'concurrency': app.worker_defaults['concurrency'], "
        "'database_threads': settings.CHATBOT_DATABASE_THREADS, "
        "'pool_size': settings.DATABASE_POOL_MAX_SIZE}",
        **env,
    )


def test_pgbouncer_mode_makes_the_worker_poll_instead_of_listening():
    # LISTEN needs a session of its own, which PgBouncer's transaction pooling does not keep.
    pgbouncer = _worker_options_in_subprocess(
        DATABASE_URL="postgres://app@pgbouncer:6432/chatbot", DATABASE_PGBOUNCER="true"
    )

    assert job_app.worker_defaults.get("listen_notify", True) is True  # this test run's
    assert pgbouncer["listen_notify"] is False


def test_the_worker_runs_many_jobs_and_leaves_pooled_connections_for_http_by_default():
    # Jobs and requests share one pool in the `make run` process. Jobs hold a connection only
    # while a query runs, at most one per database thread: the rest is the HTTP side's.
    options = _worker_options_in_subprocess()

    assert options["concurrency"] >= 100
    assert options["database_threads"] < options["pool_size"]


def test_healthz_names_the_database_when_it_cannot_be_reached(tmp_path):
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--no-worker", "--port", str(port)],
        cwd=ROOT,
        # The pool's own timeout (DATABASE_POOL_TIMEOUT) stays at its default of 10 s.
        env=_env(
            DATABASE_URL=f"postgresql://postgres@/nowhere?host={tmp_path}", DJANGO_DEBUG="true"
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", server, seconds=60)
        started = time.monotonic()
        status, body = _get(f"http://127.0.0.1:{port}/healthz")
        took = time.monotonic() - started
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    assert status == 503
    assert body == {"status": "unavailable", "database": "unavailable"}
    assert took < 5


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


def _wait_for_text(path: Path, text: str, process: subprocess.Popen, *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while text not in path.read_text():
        if process.poll() is not None:
            raise AssertionError(f"exited early ({process.returncode}):\n{path.read_text()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} not logged within {seconds}s:\n{path.read_text()}")
        time.sleep(0.2)


@contextlib.contextmanager
def _database_unreachable(*, application_name: str) -> Iterator[None]:
    """Cut the clients called ``application_name`` off the test database, and keep them off."""
    params = connection.settings_dict
    database = sql.Identifier(params["NAME"])
    with psycopg.connect(
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        user=params["USER"] or None,
        password=params["PASSWORD"] or None,
        passfile=params["OPTIONS"].get("passfile"),
        dbname="postgres",
        autocommit=True,
    ) as admin:
        admin.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(database))
        try:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s",
                [application_name],
            )
            yield
        finally:
            admin.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true").format(database))


@pytest.mark.django_db(transaction=True)
def test_the_server_outlives_a_database_outage_and_runs_jobs_again(tmp_path):
    from tests import server_jobs

    database_url = _url_of_the_test_database()
    database_url += ("&" if "?" in database_url else "?") + "application_name=outage-test"
    port = _free_port()
    log = tmp_path / "server.log"
    job = tmp_path / "job"
    with log.open("w") as log_file:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(port)],
            cwd=ROOT,
            env=_env(
                DATABASE_URL=database_url,
                DJANGO_DEBUG="true",
                DJANGO_SETTINGS_MODULE="tests.server_settings",
            ),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        assert _wait_for(f"http://127.0.0.1:{port}/healthz", server)[0] == 200
        _wait_for_text(log, "Job worker running", server, seconds=30)

        with _database_unreachable(application_name="outage-test"):
            assert _wait_for(f"http://127.0.0.1:{port}/healthz", server)[0] == 503
            time.sleep(1)

        # The worker lost its listener: it stops, says so, and is started again.
        _wait_for_text(log, "Job worker stopped; starting it again", server, seconds=60)
        server_jobs.sleep_then_touch.defer(path=str(job), seconds=0)
        _wait_for_file(job, server, seconds=60)
        assert _wait_for(f"http://127.0.0.1:{port}/healthz", server)[0] == 200, log.read_text()
        assert server.poll() is None
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)

    assert server.returncode == 0, log.read_text()


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


def _defer(conninfo: str, task_name: str, **kwargs: Any) -> None:
    """Defer a job by name into the database at ``conninfo``, as another process would."""
    job_app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo))
    with job_app.open():
        job_app.configure_task(name=task_name).defer(**kwargs)


def _wait_for_file(path: Path, process: subprocess.Popen, *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"exited early: {process.communicate()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear within {seconds}s")
        time.sleep(0.1)


def _group_is_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def test_make_run_serves_and_ctrl_c_lets_running_jobs_finish_and_leaves_no_process_behind():
    data_dir = Path(tempfile.mkdtemp(prefix="cb-run-"))
    port = _free_port()
    job = data_dir / "job"
    env = _env(
        CHATBOT_DATA_DIR=str(data_dir),
        PORT=str(port),
        DJANGO_SETTINGS_MODULE="tests.server_settings",
        CHATBOT_WORKER_SHUTDOWN_TIMEOUT="30",
    )
    for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
        env.pop(name, None)
    # `make run` as typed in a terminal: its own process group, which Ctrl-C signals as a whole.
    make = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        status, body = _wait_for(f"http://127.0.0.1:{port}/healthz", make, seconds=90)
        assert (status, body) == (200, {"status": "ok", "database": "ok"})
        assert _processes_mentioning(str(data_dir)), "the local PostgreSQL should be running"
        # The admin's CSS, collected into the data directory and served with DEBUG off.
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/static/admin/css/base.css", timeout=10
        ) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/css")
        assert (data_dir / "static" / "admin" / "css" / "base.css").is_file()
        _defer(
            f"postgresql://postgres@/chatbot?host={quote(str(data_dir / 'run'))}"
            f"&passfile={quote(str(data_dir / 'postgres' / 'chatbot.pgpass'))}",
            "tests.sleep_then_touch",
            path=str(job),
            seconds=3,
        )
        _wait_for_file(Path(f"{job}.started"), make, seconds=30)
    finally:
        os.killpg(make.pid, signal.SIGINT)
        _, stderr = make.communicate(timeout=90)
        leftovers = _processes_mentioning(str(data_dir))
        group_gone = _group_is_gone(make.pid)
        job_finished = job.exists()
        shutil.rmtree(data_dir, ignore_errors=True)

    assert job_finished, stderr
    assert "forcing exit" not in stderr
    assert "Traceback" not in stderr
    assert "Stopped" in stderr
    assert leftovers == []
    assert group_gone


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


# Imported only by the runs that use them (docs/architecture.md, Start-up): pydantic-ai and the
# model SDKs when a model is configured, slack_sdk and aiohttp when talking to Slack, httpx for
# Slack and web sources, numpy and wordllama where vectors are made or searched,
# prometheus_client by /metrics and the server, markdown-it when an admin page renders, rich
# for a progress bar on a terminal, uvicorn by `serve`, docutils, bs4 and yaml by ingestion.
ONLY_SOME_RUNS_NEED = {
    *("pydantic_ai", "pydantic", "openai", "anthropic", "slack_sdk", "slack_bolt", "aiohttp"),
    *("httpx", "numpy", "wordllama", "prometheus_client", "markdown_it", "rich", "uvicorn"),
    *("docutils", "bs4", "yaml"),
}

# manage.py run as usual, then the top-level names of what is in sys.modules at exit.
_MANAGE_THEN_LIST_MODULES = """
import atexit, json, runpy, sys
OUT = sys.argv.pop(1)
def _list():
    with open(OUT, "w") as out:
        json.dump(sorted({name.split(".")[0] for name in sys.modules}), out)
atexit.register(_list)
sys.argv[0] = "manage.py"
runpy.run_path("manage.py", run_name="__main__")
"""


def _top_level_packages_imported(*args: str, env: dict[str, str], out: Path) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", _MANAGE_THEN_LIST_MODULES, str(out), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return set(json.loads(out.read_text()))


@pytest.mark.django_db
@pytest.mark.parametrize("debug", ["true", "false"])
@pytest.mark.parametrize("command", ["help", "check"])
def test_commands_start_without_the_modules_only_some_runs_need(command, debug, tmp_path):
    env = _env(
        DJANGO_DEBUG=debug, DJANGO_SECRET_KEY="s" * 64, DATABASE_URL=_url_of_the_test_database()
    )

    imported = _top_level_packages_imported(command, env=env, out=tmp_path / "modules.json")

    assert {"django", "data", "chatbot"} <= imported
    assert imported & ONLY_SOME_RUNS_NEED == set()


@pytest.mark.django_db(transaction=True)
def test_offline_release_notes_start_without_the_modules_only_some_runs_need(tmp_path):
    from tests.git_repos import Repo

    repo = Repo(tmp_path / "repo")
    repo.commit("Initial commit")
    repo.tag("v1")
    repo.commit("feat: add CSV export")
    env = _env(DJANGO_DEBUG="true", DATABASE_URL=_url_of_the_test_database())

    imported = _top_level_packages_imported(
        "release_notes", "--repo", str(repo.path), "--from", "v1", "--offline",
        "--output", str(tmp_path / "notes.md"), env=env, out=tmp_path / "modules.json",
    )  # fmt: skip

    assert "CSV export" in (tmp_path / "notes.md").read_text()
    assert "domain" in imported
    assert imported & ONLY_SOME_RUNS_NEED == set()


def _names_in_the_readme_table() -> set[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Configuration") : text.index("## Architecture")]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row)}


def test_env_example_lists_every_setting_the_readme_and_the_settings_name():
    example = set(re.findall(r"^# ([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    read = set(
        re.findall(r'env\.\w+\(\s*"([A-Z][A-Z0-9_]+)"', (ROOT / "chatbot/settings.py").read_text())
    )

    assert example == _names_in_the_readme_table()
    assert read <= example, f"missing from .env.example and the README: {read - example}"


def test_a_env_file_fills_in_what_the_environment_leaves_unset(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("PORT=8123\nHOST=0.0.0.0\n")

    found = _json_from_django_in_subprocess(
        "{'port': settings.PORT, 'host': settings.HOST}", CHATBOT_ENV_FILE=str(env_file), HOST="::1"
    )

    assert found == {"port": 8123, "host": "::1"}


def test_json_logs_put_one_object_per_line_with_the_request_or_job_id():
    code = (
        "import django, logging; django.setup(); from chatbot import log_context; "
        "log_context.current_id.set('job-42'); "
        "logging.getLogger('chatbot.test').warning('first line\\nsecond line')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_env(DJANGO_SETTINGS_MODULE="chatbot.settings", DJANGO_DEBUG="true", LOG_FORMAT="json"),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    [line] = result.stderr.strip().splitlines()
    record = json.loads(line)
    assert record["log_id"] == "job-42"
    assert record["level"] == "WARNING"
    assert record["logger"] == "chatbot.test"
    assert record["message"] == "first line\nsecond line"
    assert "time" in record
