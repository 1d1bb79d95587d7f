"""A database that is not there yet, or not set up yet, is one line that says what to do,
never a traceback (chatbot/startup_errors.py)."""

import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from tests.test_startup import ROOT, _env, _free_port, _url_of_the_test_database


def test_a_database_that_cannot_be_reached_gives_one_line_not_a_traceback():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=_env(
            DJANGO_DEBUG="true",
            DATABASE_URL=f"postgres://chatbot:secret@127.0.0.1:{_free_port()}/chatbot",
            DATABASE_POOL_TIMEOUT="1",
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    # The pool logs each refused attempt with its cause; the command ends with one line.
    assert result.stderr.strip().splitlines()[-1] == (
        "chatbot: cannot reach the database (couldn't get a connection after 1.00 sec); start "
        "it or correct DATABASE_URL (unset, the launcher runs a local PostgreSQL of its own)"
    )


@pytest.mark.django_db(transaction=True)
def test_a_database_without_tables_says_to_migrate_not_a_traceback():
    with connection.cursor() as cursor:
        cursor.execute("DROP DATABASE IF EXISTS chatbot_unmigrated")
        cursor.execute("CREATE DATABASE chatbot_unmigrated")
    try:
        url = urlsplit(_url_of_the_test_database())
        empty = urlunsplit(url._replace(path="/chatbot_unmigrated"))
        result = subprocess.run(
            [sys.executable, "manage.py", "ask", "how do I deploy?"],
            cwd=ROOT,
            env=_env(DJANGO_DEBUG="true", DATABASE_URL=empty),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP DATABASE chatbot_unmigrated WITH (FORCE)")

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "chatbot: the database has no tables yet: run `make manage ARGS=migrate` "
        "(`make run` migrates by itself)"
    )
