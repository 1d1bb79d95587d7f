"""Jobs run like requests: each in its own thread context, leaving no connection behind.

procrastinate's DjangoApp already closes the connection of the thread a task used (its
``close_db_connections`` task middleware). What ``chatbot.jobs.run_in_own_context`` adds is the
thread: without it, the async ORM calls of every job run on asgiref's one process-wide executor
thread and share its one connection, which each finishing job then closes under the others.
These tests fail without it.
"""

import asyncio
import dataclasses
import threading
import time

import psycopg
import pytest
from asgiref.sync import SyncToAsync, sync_to_async
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from procrastinate.contrib.django import app
from procrastinate.contrib.django.utils import connector_params

from chatbot import units_of_work
from tests import workers

pytestmark = pytest.mark.django_db(transaction=True)


@dataclasses.dataclass
class Seen:
    job: int
    thread: threading.Thread
    database: BaseDatabaseWrapper
    backend_pids: tuple[int, int]


seen: list[Seen] = []


def _where_am_i() -> tuple[threading.Thread, BaseDatabaseWrapper, int]:
    """This thread, its database connection wrapper, and the server process serving it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend_pid = cursor.fetchone()[0]
    return threading.current_thread(), connections["default"], backend_pid


@app.task(name="tests.use_the_orm", pass_context=True)
async def use_the_orm(context, pause: float) -> None:
    """A job that reads through the async ORM, waits, and reads again."""
    await get_user_model().objects.acount()
    thread, database, first = await sync_to_async(_where_am_i, thread_sensitive=True)()
    await asyncio.sleep(pause)
    _, _, second = await sync_to_async(_where_am_i, thread_sensitive=True)()
    seen.append(
        Seen(job=context.job.id, thread=thread, database=database, backend_pids=(first, second))
    )


def _query_directly(query: str, *params: object) -> list[tuple]:
    """Ask PostgreSQL on a connection of our own, outside Django's pool and threads."""
    with psycopg.connect(**connector_params(), autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


def _other_sessions() -> int:
    return _query_directly(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )[0][0]


def _pool_stats() -> dict[str, int]:
    return connection.pool.get_stats()  # type: ignore[attr-defined]


def _process_wide_executor_thread() -> threading.Thread:
    return SyncToAsync.single_thread_executor.submit(threading.current_thread).result()


async def _defer(count: int, *, pause: float) -> None:
    # As a request would: in a unit of work of its own, its connection given back after.
    async with units_of_work.unit_of_work(log_id="test-defer"):
        for _ in range(count):
            await use_the_orm.defer_async(pause=pause)


@pytest.fixture
def main_thread_connection_closed() -> None:
    """pytest-django's setup leaves the main thread's connection checked out; give it back."""
    connections.close_all()


@pytest.mark.usefixtures("main_thread_connection_closed")
async def test_fifty_jobs_using_the_async_orm_leave_no_connection_behind():
    seen.clear()
    await _defer(50, pause=0.01)

    await workers.run_worker_until_idle(concurrency=10)

    statuses = await asyncio.to_thread(
        _query_directly,
        "SELECT status, count(*) FROM procrastinate_jobs WHERE task_name = %s GROUP BY status",
        "tests.use_the_orm",
    )
    assert dict(statuses) == {"succeeded": 50}
    # Each job ran on a thread of its own, never on the process-wide executor thread...
    shared_thread = await asyncio.to_thread(_process_wide_executor_thread)
    assert len(seen) == 50
    assert all(s.thread is not shared_thread for s in seen)
    # ...and the connection it used there is closed.
    assert [s.job for s in seen if s.database.connection is not None] == []
    # Nothing is checked out of the pool, and every server process left is idle in it.
    stats = _pool_stats()
    assert stats["pool_size"] - stats["pool_available"] == 0
    deadline = time.monotonic() + 5
    while (sessions := await asyncio.to_thread(_other_sessions)) > stats["pool_available"]:
        # A server process lingers for a moment after its client closes; a leaked one stays.
        assert time.monotonic() < deadline, f"{sessions} sessions, {stats}"
        await asyncio.sleep(0.1)


async def test_concurrent_jobs_never_share_a_connection():
    seen.clear()
    await _defer(6, pause=0.3)

    await workers.run_worker_until_idle(concurrency=6)

    assert len(seen) == 6
    # Each job keeps one connection for its whole run (no other job finishing closes it under
    # it), and jobs running at the same time each have their own: six overlapping jobs means
    # six different threads and six different server processes.
    assert all(first == second for first, second in (s.backend_pids for s in seen))
    assert len({s.thread for s in seen}) == 6
    assert len({s.backend_pids[0] for s in seen}) == 6
