"""Reachability of the database, for health checks."""

from asgiref.sync import sync_to_async
from django.db import DatabaseError, connection


class DatabaseUnavailable(Exception):
    """The database could not be reached or did not answer."""


def _select_one() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        raise DatabaseUnavailable(str(error).strip() or type(error).__name__) from error


async def ping() -> None:
    """Run ``SELECT 1``; raise :class:`DatabaseUnavailable` when that fails."""
    await sync_to_async(_select_one, thread_sensitive=True)()


def _close_this_threads_connection() -> None:
    connection.close()


async def release() -> None:
    """Give this unit of work's connection back to the pool before a long wait.

    ``connection`` must be looked up in the thread that owns it, hence the small sync
    function run with ``thread_sensitive=True`` (closing from the event loop thread fails).
    """
    await sync_to_async(_close_this_threads_connection, thread_sensitive=True)()
