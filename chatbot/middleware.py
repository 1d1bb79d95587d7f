"""HTTP middleware: a request id on every log line and one access-log line per request."""

import contextvars
import logging
import re
import time
from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponseBase
from django.utils.decorators import sync_and_async_middleware

from chatbot import log_context

logger = logging.getLogger("chatbot.access")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def request_id(incoming: str) -> str:
    """The caller's request id when it is sane, otherwise a new one."""
    return incoming if _VALID_ID.match(incoming) else log_context.new_id()


def log_access(*, method: str, path: str, status: int, started: float, problem: str = "") -> None:
    """The request's one line; a refused one (``problem``: why) at WARNING."""
    elapsed = (time.perf_counter() - started) * 1000
    if problem:
        logger.warning("%s %s %s %.1fms refused: %s", method, path, status, elapsed, problem)
    else:
        logger.info("%s %s %s %.1fms", method, path, status, elapsed)


@sync_and_async_middleware
def request_id_middleware(
    get_response: Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]],
) -> Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]]:
    """Take the caller's ``X-Request-ID`` when it is sane, or make one, and echo it back."""

    def start(request: HttpRequest) -> contextvars.Token[str]:
        return log_context.current_id.set(request_id(request.headers.get("X-Request-ID", "")))

    def finish(request: HttpRequest, response: HttpResponseBase, started: float) -> None:
        response["X-Request-ID"] = log_context.current_id.get()
        log_access(
            method=request.method or "",
            path=request.path,
            status=response.status_code,
            started=started,
        )

    async def async_middleware(request: HttpRequest) -> HttpResponseBase:
        token, started = start(request), time.perf_counter()
        try:
            response = await get_response(request)  # type: ignore[misc]
            finish(request, response, started)
            return response
        finally:
            log_context.current_id.reset(token)

    def sync_middleware(request: HttpRequest) -> HttpResponseBase:
        token, started = start(request), time.perf_counter()
        try:
            response = get_response(request)
            assert isinstance(response, HttpResponseBase)
            finish(request, response, started)
            return response
        finally:
            log_context.current_id.reset(token)

    return async_middleware if iscoroutinefunction(get_response) else sync_middleware
