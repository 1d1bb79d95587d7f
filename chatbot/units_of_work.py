"""The one place that runs a unit of work outside a request: a job, a command, a script.

Django's ASGI handler gives each request its own ``ThreadSensitiveContext`` and cleans up its
connections after it. A unit of work here gets the same: its own context (so its database
wrapper is its own), its log id, and a final cleanup of whatever it left open.

What it does not get is a thread of its own. The database backend gives a connection back as
soon as it is idle (``chatbot/database_backend``), so a job's sync database calls need no
thread affinity between transactions, only one thread at a time. Units of work therefore share
a small, fixed set of single-thread executors (``CHATBOT_DATABASE_THREADS``, each unit pinned
to the least busy one): a worker running 100 jobs at once uses that many threads, and, since a
thread runs one query or transaction at a time, at most that many pooled connections.
docs/architecture.md ("Threads and connections") explains the numbers.
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


_executors = _Executors()


def _clean_up() -> None:
    """Close what the unit of work left open (a cursor never closed, a broken transaction)."""
    for connection in connections.all(initialized_only=True):
        connection.close()


@contextlib.asynccontextmanager
async def unit_of_work(*, log_id: str) -> AsyncIterator[None]:
    """Own database context on a shared thread, a log id, and nothing left open after it."""
    token = log_context.current_id.set(log_id)
    index, executor = _executors.take()
    try:
        async with ThreadSensitiveContext(executor=executor):
            try:
                yield
            finally:
                await sync_to_async(_clean_up, thread_sensitive=True)()
    finally:
        _executors.give_back(index)
        log_context.current_id.reset(token)


def run[T](work: Callable[[], Awaitable[T]], *, log_id: str) -> T:
    """Run ``work()`` to completion in a new event loop as one unit of work (for commands)."""

    async def main() -> T:
        async with unit_of_work(log_id=log_id):
            return await work()

    return asyncio.run(main())
