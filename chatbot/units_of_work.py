"""The one place that runs a unit of work outside a request: a job, a command, a script.

Django's ASGI handler gives each request its own ``ThreadSensitiveContext`` and cleans up its
connections after it. A unit of work here gets the same: its own context (so its database
wrapper is its own), its log id, and a final cleanup of whatever it left open.

What it does not get is a thread of its own. The database backend gives a connection back as
soon as it is idle (``chatbot/database_backend``), and there is never an ``await`` inside a
transaction, so between two sync calls a unit's database state is empty: units of work can
share a small, fixed set of single-thread executors (``CHATBOT_DATABASE_THREADS``, each unit
pinned to the least busy one). Django keeps one connection wrapper per thread, so units pinned
to the same thread take turns with it, as requests take turns with a WSGI thread's. A worker
running 100 jobs at once then uses that many threads and, since a thread runs one query or
transaction at a time, at most that many pooled connections. docs/architecture.md
("Connections and threads") explains the numbers.

With ``CHATBOT_RELEASE_IDLE_CONNECTIONS=false`` (the naive design, for the benchmark) a
connection stays with its wrapper until the unit ends, so each unit gets a thread of its own,
as before this design.
"""

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.db import connections

from chatbot import log_context


class _Executors:
    """A fixed set of single-thread executors, each counting the units of work pinned to it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executors: list[ThreadPoolExecutor] = []
        self._load: list[int] = []

    def take(self) -> tuple[int, ThreadPoolExecutor]:
        with self._lock:
            if not self._executors:
                count = settings.CHATBOT_DATABASE_THREADS
                self._executors = [
                    ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"database-{number}")
                    for number in range(count)
                ]
                self._load = [0] * count
            index = min(range(len(self._load)), key=self._load.__getitem__)
            self._load[index] += 1
            return index, self._executors[index]

    def give_back(self, index: int) -> None:
        with self._lock:
            self._load[index] -= 1

    def units_on(self, index: int) -> int:
        with self._lock:
            return self._load[index]


_executors = _Executors()


def _clean_up(*, index: int | None) -> None:
    """Close what the unit of work left open (a cursor never closed, a broken connection).

    A thread's connection is shared by the units pinned to it: while another one is there (it
    may be reading an iterator between awaits), only an idle or unusable connection is closed.
    """
    alone = index is None or _executors.units_on(index) == 1
    for connection in connections.all(initialized_only=True):
        if alone:
            connection.close()
        else:
            connection.close_if_unusable_or_obsolete()
            release_if_idle = getattr(connection, "release_if_idle", None)
            if release_if_idle is not None:
                release_if_idle()


@contextlib.asynccontextmanager
async def unit_of_work(*, log_id: str) -> AsyncIterator[None]:
    """Own database context on a shared thread, a log id, and nothing left open after it."""
    token = log_context.current_id.set(log_id)
    shared = settings.DATABASES["default"].get("RELEASE_WHEN_IDLE", True)
    index, executor = _executors.take() if shared else (None, None)
    try:
        async with ThreadSensitiveContext(executor=executor):
            try:
                yield
            finally:
                await sync_to_async(_clean_up, thread_sensitive=True)(index=index)
    finally:
        if index is not None:
            _executors.give_back(index)
        log_context.current_id.reset(token)


def run[T](work: Callable[[], Awaitable[T]], *, log_id: str) -> T:
    """Run ``work()`` to completion in a new event loop as one unit of work (for commands)."""

    async def main() -> T:
        async with unit_of_work(log_id=log_id):
            return await work()

    return asyncio.run(main())
