"""Django's PostgreSQL backend, giving its connection back as soon as it is idle.

A connection is out of the pool only while a query or a transaction runs: the moment the last
open cursor closes in autocommit, outside ``atomic()``, the connection goes back to psycopg's
pool (or, with no client pool, behind PgBouncer, is closed; PgBouncer keeps the server
connection). Use-case code never releases by hand, so a slow model or Slack call costs no
connection whatever the code around it forgets (docs/architecture.md, "Connections").

The connection is held, on purpose, while:
- an ``atomic()`` block runs, nested or not, until the outermost one commits or rolls back;
- autocommit is off (a hand-managed transaction), until it is switched back on;
- any cursor is open: ``.iterator()`` (a named, server-side cursor), ``raw()`` and
  ``connection.cursor()`` until closed. A cursor that is never closed keeps the connection
  until its unit of work ends (``chatbot/units_of_work.py`` closes what is left).

Why not django-pg-real-pool (1.1.0), which does the same: it declares Django up to 6.0, it
releases when the cursor that *acquired* the connection closes, even while a second cursor
opened meanwhile (a nested read during an ``.iterator()``) is still reading, and it has one
maintainer. Counting open cursors here costs a few lines and follows Django's own hooks
(``make_cursor``, ``set_autocommit``), so it is checked by our tests on every upgrade.

``RELEASE_WHEN_IDLE: False`` in the database settings turns this off: the naive design, where
a connection stays with its unit of work for its whole life. Only the benchmark uses it.
"""

import _thread
import logging
from typing import Any

from django.db import DatabaseError
from django.db.backends.postgresql import base as postgresql
from django.db.backends.utils import CursorWrapper

from chatbot.database_backend import pool_check

logger = logging.getLogger(__name__)


class _ReleasingCursor:
    """Tells the wrapper when the cursor closes (once), so it can release the connection."""

    cursor: Any
    db: "DatabaseWrapper"
    _closed = False

    def close(self) -> None:
        try:
            self.cursor.close()
        finally:
            if not self._closed:
                self._closed = True
                self.db.cursor_closed()


class ReleasingCursorWrapper(_ReleasingCursor, CursorWrapper):
    pass


class ReleasingCursorDebugWrapper(_ReleasingCursor, postgresql.CursorDebugWrapper):
    pass


class DatabaseWrapper(postgresql.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.release_when_idle: bool = self.settings_dict.get("RELEASE_WHEN_IDLE", True)
        self.open_cursors = 0
        self._connecting = False

    def make_cursor(self, cursor: Any) -> CursorWrapper:
        self.open_cursors += 1
        return ReleasingCursorWrapper(cursor, self)

    def make_debug_cursor(self, cursor: Any) -> postgresql.CursorDebugWrapper:
        self.open_cursors += 1
        return ReleasingCursorDebugWrapper(cursor, self)

    def connect(self) -> None:
        # Django runs queries of its own while connecting (the version check) and switches
        # autocommit on: neither may hand back the connection being set up.
        self._connecting = True
        self.open_cursors = 0
        try:
            super().connect()
        finally:
            self._connecting = False

    def set_autocommit(
        self, autocommit: bool, force_begin_transaction_with_broken_autocommit: bool = False
    ) -> None:
        super().set_autocommit(autocommit, force_begin_transaction_with_broken_autocommit)
        if autocommit:
            # The outermost atomic() ended (committed or rolled back), or a hand-managed
            # transaction did.
            self.release_if_idle()

    def cursor_closed(self) -> None:
        self.open_cursors = max(0, self.open_cursors - 1)
        self.release_if_idle()

    def is_idle(self) -> bool:
        return (
            self.connection is not None
            and not self._connecting
            and self.open_cursors == 0
            and not self.in_atomic_block
            and self.autocommit
        )

    def release_if_idle(self) -> None:
        if not (self.release_when_idle and self.is_idle()):
            return
        if self._thread_ident != _thread.get_ident() and not self.allow_thread_sharing:  # type: ignore[attr-defined]
            # A cursor closed from another thread (an abandoned iterator collected there): the
            # owner's thread releases the connection, at its next query or its unit's end.
            return
        try:
            self.close()
        except DatabaseError:
            # A connection that broke mid-query: the pool discards it on return. Whatever
            # happened, this wrapper no longer holds it.
            logger.warning("Could not return a broken connection to the pool", exc_info=True)
            self.connection = None

    def _close(self) -> None:
        if self.pool is not None and self.connection is not None and not self.errors_occurred:
            pool_check.returned(self.connection)
        super()._close()  # type: ignore[misc]

    def close(self) -> None:
        super().close()
        if self.connection is None:
            self.open_cursors = 0
