"""A runaway query is cancelled with PostgreSQL's own clear message; long work is let run."""

import subprocess
import sys
import time

import pytest

from tests.test_startup import ROOT, _env, _url_of_the_test_database

pytestmark = pytest.mark.django_db

SCRIPT = """
import sys, time, django
django.setup()
from django.db import connection
from domain import database

started = time.monotonic()
with database.without_statement_timeout() as cursor:
    cursor.execute("SELECT pg_sleep(1)")
print(f"lifted: slept {time.monotonic() - started:.1f} s", flush=True)
with connection.cursor() as cursor:
    cursor.execute("SHOW statement_timeout")
    print("then:", cursor.fetchone()[0], flush=True)
    started = time.monotonic()
    try:
        cursor.execute("SELECT pg_sleep(30)")
    finally:
        print(f"runaway: stopped after {time.monotonic() - started:.1f} s", flush=True)
"""


def test_a_runaway_query_is_cancelled_and_long_work_lifts_the_limit_for_itself():
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=_env(
            DATABASE_URL=_url_of_the_test_database(),
            DJANGO_DEBUG="true",
            DJANGO_SETTINGS_MODULE="chatbot.settings",
            DATABASE_STATEMENT_TIMEOUT="0.5",
            # One pooled connection: the query after the lifted one reuses it.
            DATABASE_POOL_MAX_SIZE="1",
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "lifted: slept 1." in result.stdout
    assert "then: 500ms" in result.stdout  # the lifted limit did not stay on the connection
    assert "runaway: stopped after 0." in result.stdout
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line == (
        "django.db.utils.OperationalError: canceling statement due to statement timeout"
    )
    assert time.monotonic() - started < 30
