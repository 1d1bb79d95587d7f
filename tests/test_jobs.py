"""Jobs run as units of work: each its own database context, on a few shared threads.

``chatbot.jobs.run_in_own_context`` is the one place connections are looked after for jobs
(procrastinate's own per-task cleanup is taken out). Without it, the async ORM calls of every
job would run on asgiref's one process-wide executor thread and share one connection wrapper;
with a thread per job, a worker running 100 jobs would run 100 threads. These tests show
neither happens, and that nothing is left checked out.
"""

import asyncio
import contextlib
import dataclasses
import threading
import time

import psycopg
import pytest
from asgiref.sync import SyncToAsync, sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
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


@pytest.fixture
def fresh_pool() -> None:
    """A new, empty pool, so its statistics count this test's connections only."""
    connections.close_all()
    connection.close_pool()  # type: ignore[attr-defined]


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
    # Each job ran on one of the database threads, never on the process-wide executor thread...
    shared_thread = await asyncio.to_thread(_process_wide_executor_thread)
    assert len(seen) == 50
    assert all(s.thread is not shared_thread for s in seen)
    assert all(s.thread.name.startswith("database-") for s in seen)
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


@pytest.mark.usefixtures("fresh_pool")
async def test_many_concurrent_jobs_share_a_few_threads_and_connections():
    seen.clear()
    await _defer(30, pause=0.5)

    await workers.run_worker_until_idle(concurrency=30)

    assert len(seen) == 30
    # Thirty jobs waited at the same time on no more threads than the setting allows, all of
    # them busy (a job is pinned to the least busy thread)...
    threads = {s.thread for s in seen}
    assert len(threads) == min(30, settings.CHATBOT_DATABASE_THREADS)
    # ...taking turns with their thread's connection wrapper, which holds no connection
    # between their queries, so no more connections were opened than there are threads.
    assert len({id(s.database) for s in seen}) == len(threads)
    assert [s.job for s in seen if s.database.connection is not None] == []
    assert _pool_stats()["connections_num"] <= len(threads)


@app.task(name="tests.record_a_user")
async def record_a_user(username: str) -> None:
    await get_user_model().objects.acreate(username=username)


async def test_the_worker_hears_of_new_jobs_through_listen_while_jobs_release_theirs():
    """procrastinate's LISTEN connection is its own (the worker connector's pool): the backend
    releasing Django's connections between queries does not touch it."""
    connector = app.connector.get_worker_connector()  # type: ignore[attr-defined]
    with app.replace_connector(connector):
        async with app.open_async():
            worker = asyncio.create_task(
                app.run_worker_async(
                    concurrency=4,
                    listen_notify=True,
                    fetch_job_polling_interval=60,  # only a notification can wake it in time
                    queues=["default"],
                )
            )
            try:
                await asyncio.sleep(1)  # the worker is listening and found nothing to do
                for number in range(3):
                    await asyncio.to_thread(record_a_user.defer, username=f"listened-{number}")
                deadline = time.monotonic() + 15
                while (
                    await get_user_model().objects.filter(username__startswith="listened-").acount()
                    < 3
                ):
                    assert time.monotonic() < deadline, "the jobs were not picked up"
                    await asyncio.sleep(0.05)
                listening = await asyncio.to_thread(
                    _query_directly,
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND query ILIKE 'LISTEN%%'",
                )
                assert listening[0][0] >= 1
            finally:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker


def _query_that_dies() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
        # Another session kills this one while its query runs, as a restart or an admin would.
        _query_directly("SELECT pg_terminate_backend(%s) FROM pg_sleep(0.1)", pid)
        cursor.execute("SELECT pg_sleep(5)")


@app.task(name="tests.die_mid_query")
async def die_mid_query() -> None:
    await sync_to_async(_query_that_dies, thread_sensitive=True)()


def _fail_inside_a_transaction() -> None:
    with transaction.atomic():
        get_user_model().objects.create(username="never-committed")
        raise RuntimeError("the job's code failed half-way through its write")


@app.task(name="tests.fail_mid_transaction")
async def fail_mid_transaction() -> None:
    await sync_to_async(_fail_inside_a_transaction, thread_sensitive=True)()


@pytest.mark.usefixtures("main_thread_connection_closed")
async def test_jobs_that_die_mid_query_or_mid_transaction_leave_no_connection_checked_out():
    async with units_of_work.unit_of_work(log_id="test-defer"):
        for _ in range(3):
            await die_mid_query.defer_async()
            await fail_mid_transaction.defer_async()

    await workers.run_worker_until_idle(concurrency=6)

    statuses = await asyncio.to_thread(
        _query_directly,
        "SELECT task_name, status, count(*) FROM procrastinate_jobs "
        "WHERE task_name IN ('tests.die_mid_query', 'tests.fail_mid_transaction') "
        "GROUP BY task_name, status ORDER BY task_name",
    )
    assert statuses == [
        ("tests.die_mid_query", "failed", 3),
        ("tests.fail_mid_transaction", "failed", 3),
    ]
    assert not await get_user_model().objects.filter(username="never-committed").aexists()
    deadline = time.monotonic() + 5
    while (stats := _pool_stats())["pool_size"] - stats["pool_available"]:
        # The pool replaces the killed connections in the background.
        assert time.monotonic() < deadline, stats
        await asyncio.sleep(0.05)
