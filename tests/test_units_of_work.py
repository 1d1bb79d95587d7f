"""Commands run their database work like a request: on a database thread, connection given back."""

import threading

import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections

from chatbot import log_context, units_of_work

pytestmark = pytest.mark.django_db(transaction=True)


def _use_the_database() -> tuple[object, int, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return connections["default"], threading.get_ident(), log_context.current_id.get()


def test_a_unit_of_work_runs_on_its_own_thread_and_closes_its_connection():
    async def work() -> tuple[object, int, str]:
        return await sync_to_async(_use_the_database, thread_sensitive=True)()

    used, thread, log_id = units_of_work.run(work, log_id="ingest_docs")

    assert thread != threading.get_ident()
    assert log_id == "ingest_docs"
    assert used.connection is None  # type: ignore[attr-defined]
    assert log_context.current_id.get() == "-"


def test_the_connection_is_given_back_when_the_work_fails():
    seen: list[object] = []

    async def work() -> None:
        used, _thread, _log_id = await sync_to_async(_use_the_database, thread_sensitive=True)()
        seen.append(used)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        units_of_work.run(work, log_id="failing")

    assert seen[0].connection is None  # type: ignore[attr-defined]
