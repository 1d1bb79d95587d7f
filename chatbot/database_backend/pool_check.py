"""The pool's check of a connection before handing it out, only when it may have gone stale.

psycopg's pool can check every connection it hands out with an empty round trip, so that
connections that died with a database restart or outage are replaced instead of failing one
query each. Now that a connection goes back to the pool after every query or transaction, a
check on every checkout would double the round trips of a simple query. A connection given
back less than ``FRESH_SECONDS`` ago was working then and is handed out as it is; one that sat
in the pool longer (where a restart could have killed it) is checked first.

Kept apart from the backend so settings can name it without importing Django's backends, or
psycopg's pool, which only a process that opens one needs (docs/architecture.md, Start-up).
"""

import time
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

FRESH_SECONDS = 1.0

_returned_at: "weakref.WeakKeyDictionary[psycopg.Connection, float]" = weakref.WeakKeyDictionary()


def returned(connection: "psycopg.Connection") -> None:
    """Note that ``connection`` worked up to now and is going back to the pool."""
    _returned_at[connection] = time.monotonic()


def check_if_stale(connection: "psycopg.Connection") -> None:
    """The pool's ``check``: raise if a connection idle for a while no longer works."""
    if time.monotonic() - _returned_at.get(connection, 0.0) >= FRESH_SECONDS:
        import psycopg_pool  # already imported: the pool calling this is psycopg_pool's

        psycopg_pool.ConnectionPool.check_connection(connection)
