"""Jobs run like requests: each in its own thread context, leaving no connection behind."""

import asyncio
import dataclasses

import psycopg
import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.db import connection, connections
from procrastinate.contrib.django import app
from procrastinate.contrib.django.utils import connector_params

from tests import workers

pytestmark = pytest.mark.django_db(transaction=True)


@dataclasses.dataclass
class Seen:
    job: int
    backend_pids: tuple[int, int]


seen: list[Seen] = []


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@app.task(name="tests.use_the_orm", pass_context=True)
async def use_the_orm(context, pause: float) -> None:
    """A job that reads through the async ORM, waits, and reads again."""
    await get_user_model().objects.acount()
    first = await sync_to_async(_backend_pid, thread_sensitive=True)()
    await asyncio.sleep(pause)
    second = await sync_to_async(_backend_pid, thread_sensitive=True)()
    seen.append(Seen(job=context.job.id, backend_pids=(first, second)))


def _close_this_threads_connection_and_the_pool() -> None:
    connection.close()
    connection.close_pool()  # type: ignore[attr-defined]


def _sessions_on_the_test_database() -> list[str]:
    """Ask PostgreSQL directly (outside Django's pool) who is still connected."""
    with psycopg.connect(**connector_params(), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid, application_name, state, query FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [" ".join(map(str, row)) for row in rows]


async def _sessions_once_closed_ones_have_exited() -> list[str]:
    """A server process lingers for a moment after its client closes; a leaked one stays."""
    for _ in range(50):
        sessions = await asyncio.to_thread(_sessions_on_the_test_database)
        if not sessions:
            break
        await asyncio.sleep(0.1)
    return sessions


async def _job_statuses() -> dict[str, int]:
    def count() -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT status, count(*) FROM procrastinate_jobs "
                "WHERE task_name = %s GROUP BY status",
                ["tests.use_the_orm"],
            )
            return dict(cursor.fetchall())

    return await sync_to_async(count, thread_sensitive=True)()


@pytest.fixture
def main_thread_connection_closed() -> None:
    """pytest-django's setup leaves the main thread's connection checked out; give it back."""
    connections.close_all()


@pytest.mark.usefixtures("main_thread_connection_closed")
async def test_fifty_jobs_using_the_async_orm_leave_no_connection_behind():
    seen.clear()
    for _ in range(50):
        await use_the_orm.defer_async(pause=0.01)

    await workers.run_worker_until_idle(concurrency=10)

    assert await _job_statuses() == {"succeeded": 50}
    # Closing the pool closes every connection returned to it; one still checked out by a
    # job would stay open and show up in pg_stat_activity.
    await sync_to_async(_close_this_threads_connection_and_the_pool, thread_sensitive=True)()
    assert await _sessions_once_closed_ones_have_exited() == []


async def test_concurrent_jobs_never_share_a_connection():
    seen.clear()
    for _ in range(6):
        await use_the_orm.defer_async(pause=0.3)

    await workers.run_worker_until_idle(concurrency=6)

    assert len(seen) == 6
    # Each job keeps one connection for its whole run, and jobs running at the same time
    # each have their own: six overlapping jobs means six different server processes.
    assert all(first == second for first, second in (s.backend_pids for s in seen))
    assert len({s.backend_pids[0] for s in seen}) == 6
