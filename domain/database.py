"""Reachability of the database, for health checks, and room for the few long statements."""

import contextlib
import dataclasses
import math
from collections.abc import Iterator

import psycopg
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.backends.utils import CursorWrapper

# A health check answers within about this many seconds, whatever the pool's own timeout
# (DATABASE_POOL_TIMEOUT, meant for requests that can afford to wait for a connection).
PING_TIMEOUT = 2.0


class DatabaseUnavailable(Exception):
    """The database could not be reached or did not answer."""


def _select_one(*, timeout: float) -> None:
    pool = getattr(connection, "pool", None)
    try:
        if pool is not None:
            # The pool the requests use: a connection from it within the timeout, or none.
            pool.open()
            with pool.connection(timeout=timeout) as conn:
                conn.execute("SELECT 1")
        else:
            # No client pool (PgBouncer): a connection of its own, with a short connect timeout.
            params = connection.get_connection_params()
            params["connect_timeout"] = max(1, math.ceil(timeout))
            with psycopg.connect(**params) as conn:
                conn.execute("SELECT 1")
    except (psycopg.Error, DatabaseError) as error:
        raise DatabaseUnavailable(str(error).strip() or type(error).__name__) from error


async def ping() -> None:
    """Run ``SELECT 1``; raise :class:`DatabaseUnavailable` when that fails or takes too long."""
    await sync_to_async(_select_one, thread_sensitive=True)(timeout=PING_TIMEOUT)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Readiness:
    pending_migrations: int
    worker_silent_for: float | None  # seconds since the latest worker heartbeat; None: no worker


# Migrations are not unapplied under a running server: once all are in, the graph (tens of ms
# to build) need not be read again by this process.
_migrations_seen_applied = False


def _readiness() -> Readiness:
    global _migrations_seen_applied
    from django.db.migrations.executor import MigrationExecutor

    try:
        pending = 0
        if not _migrations_seen_applied:
            executor = MigrationExecutor(connection)
            pending = len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
            _migrations_seen_applied = pending == 0
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXTRACT(EPOCH FROM clock_timestamp() - max(last_heartbeat))"
                " FROM procrastinate_workers"
            )
            row = cursor.fetchone()
    except (psycopg.Error, DatabaseError) as error:
        raise DatabaseUnavailable(str(error).strip() or type(error).__name__) from error
    silent_for = row[0] if row else None
    return Readiness(
        pending_migrations=pending,
        worker_silent_for=None if silent_for is None else float(silent_for),
    )


async def readiness() -> Readiness:
    """Pending migrations and the job workers' latest heartbeat (any worker, any machine).

    Raises :class:`DatabaseUnavailable` like :func:`ping`, which runs first so that an
    unreachable database is reported within its short timeout.
    """
    await ping()
    return await sync_to_async(_readiness, thread_sensitive=True)()


@contextlib.contextmanager
def without_statement_timeout() -> Iterator[CursorWrapper]:
    """A cursor whose statements may run as long as they need (DATABASE_STATEMENT_TIMEOUT is
    for runaway queries, not for migrations or index refreshes).

    The open cursor keeps the connection (chatbot/database_backend), and the timeout is put
    back before it returns to the pool, so no other request inherits the lifted limit. Inside
    a transaction, ``SET LOCAL`` ends with it, even when it fails.
    """
    with connection.cursor() as cursor:
        if settings.DATABASE_PGBOUNCER:
            # A session SET would stay on whichever server connection PgBouncer picked.
            yield cursor
            return
        local = connection.in_atomic_block
        cursor.execute(f"SET {'LOCAL ' if local else ''}statement_timeout = 0")
        try:
            yield cursor
        finally:
            if not local:
                cursor.execute("RESET statement_timeout")
