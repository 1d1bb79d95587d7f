"""The one boundary for writes: a sync function, run in one transaction, off the event loop.

Use cases keep network work (models, Slack) outside and call :func:`write` with a small sync
function that does every write that belongs together. It runs inside ``transaction.atomic()``
on the unit of work's database thread, so there is never an ``await`` inside a transaction,
and the connection goes back to the pool as soon as the transaction ends (the database
backend does that, docs/architecture.md, "Connections").
"""

from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction


def _atomically[R](fn: Callable[..., R], kwargs: dict[str, Any]) -> R:
    with transaction.atomic():
        return fn(**kwargs)


async def write[R](fn: Callable[..., R], /, **kwargs: Any) -> R:
    """Run ``fn(**kwargs)`` in one transaction on this unit of work's thread; its result."""
    return await sync_to_async(_atomically, thread_sensitive=True)(fn, kwargs)


def write_sync[R](fn: Callable[..., R], /, **kwargs: Any) -> R:
    """The same one transaction, for a caller that is sync already (the admin's views)."""
    return _atomically(fn, kwargs)


async def outside_transaction[R](fn: Callable[..., R], /, **kwargs: Any) -> R:
    """Run ``fn(**kwargs)`` in autocommit: for statements PostgreSQL refuses in a transaction
    (``VACUUM``), each of ``fn``'s own writes committed as it goes.
    """
    return await sync_to_async(fn, thread_sensitive=True)(**kwargs)
