"""Closing psycopg's connection pools when a process is done with the database.

A pool left open at interpreter exit makes Python wait up to 5 s for each of its threads
(longer when they are retrying a dead server), so servers and commands close it explicitly.
"""

import atexit

from django.db import connections


def close() -> None:
    for connection in connections.all():
        if getattr(connection, "_connection_pools", {}).get(connection.alias) is not None:
            connection.close()
            connection.close_pool()  # type: ignore[attr-defined]


def close_at_exit() -> None:
    atexit.register(close)
