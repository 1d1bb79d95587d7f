"""A database pool with no connection to spare is a 503 with ``Retry-After``, not a 500.

psycopg's pool raises ``PoolTimeout`` when no connection frees up within
``DATABASE_POOL_TIMEOUT``; Django wraps it in ``django.db.OperationalError`` (the pool's error is
its ``__cause__``). That is overload or an outage, not a bug: the caller should come back
later, and Slack does retry an event it did not get a 2xx for.
"""

from collections.abc import Awaitable, Callable

import psycopg_pool
from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase, JsonResponse

RETRY_AFTER_SECONDS = "1"
BUSY_BODY = {"error": "database busy, try again"}


def is_pool_timeout(error: BaseException) -> bool:
    """Whether ``error`` is, or was caused by, psycopg's pool running out of time."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, psycopg_pool.PoolTimeout):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def busy_response() -> JsonResponse:
    return JsonResponse(BUSY_BODY, status=503, headers={"Retry-After": RETRY_AFTER_SECONDS})


class DatabaseBusyMiddleware:
    """Any view whose database work found the pool exhausted answers 503 + ``Retry-After``."""

    sync_capable = True
    async_capable = True

    def __init__(
        self,
        get_response: Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]],
    ) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> JsonResponse | None:
        return busy_response() if is_pool_timeout(exception) else None
