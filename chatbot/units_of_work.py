"""Run a unit of work outside a request (a management command, a script) the way Django runs one.

Django's ASGI handler gives each request its own ``ThreadSensitiveContext`` and closes old
connections before and after it; ``chatbot/jobs.py`` does the same for jobs. Commands and other
entry points use :func:`unit_of_work` (or :func:`run` from sync code) for the same reasons:
their ``sync_to_async`` calls get a thread of their own instead of the process-wide one, and
the connection that thread used goes back to the pool when the work ends, even on failure.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.db import close_old_connections

from chatbot import log_context


def _release_connections() -> None:
    close_old_connections()


@contextlib.asynccontextmanager
async def unit_of_work(*, log_id: str) -> AsyncIterator[None]:
    """Own thread context, log id, and connections closed before and after the block."""
    token = log_context.current_id.set(log_id)
    try:
        async with ThreadSensitiveContext():
            release = sync_to_async(_release_connections, thread_sensitive=True)
            await release()
            try:
                yield
            finally:
                await release()
    finally:
        log_context.current_id.reset(token)


def run[T](work: Callable[[], Awaitable[T]], *, log_id: str) -> T:
    """Run ``work()`` to completion in a new event loop as one unit of work (for commands)."""

    async def main() -> T:
        async with unit_of_work(log_id=log_id):
            return await work()

    return asyncio.run(main())
