"""The Slack Web API client every part of the product uses.

``SLACK_API_URL`` lets tests and proxies stand in for slack.com. Rate limits (429) are retried
after ``Retry-After``; 5xx answers and network errors are retried with backoff.
"""

import asyncio
import weakref

import aiohttp
from django.conf import settings
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from application import metrics

# One HTTP session per event loop for the jobs' clients: without one, slack_sdk opens a new
# session, so a new connection (and, to slack.com, a new TLS handshake), for every call.
_sessions: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession]" = (
    weakref.WeakKeyDictionary()
)


def _shared_session(*, timeout: int) -> aiohttp.ClientSession:
    loop = asyncio.get_running_loop()
    session = _sessions.get(loop)
    if session is None or session.closed:
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout))
        _sessions[loop] = session
    return session


async def close_shared_session() -> None:
    """Close this event loop's shared session (when a server or command stops)."""
    session = _sessions.pop(asyncio.get_running_loop(), None)
    if session is not None:
        await session.close()


def web_client(
    *, timeout: int = 15, with_token: bool = True, shared_session: bool = False
) -> AsyncWebClient:
    """A Web API client; with ``shared_session``, on this event loop's kept-alive connections.

    Only a client used and dropped within the running loop may share its session (a job's);
    one kept across loops (bolt's app) opens its own per call.
    """
    base_url = settings.SLACK_API_URL
    if not base_url.endswith("/"):
        base_url += "/"
    retries = settings.SLACK_RETRY_LIMIT
    return AsyncWebClient(
        token=(settings.SLACK_BOT_TOKEN or None) if with_token else None,
        base_url=base_url,
        timeout=timeout,
        session=_shared_session(timeout=timeout) if shared_session else None,
        retry_handlers=[
            _CountErrors(),
            AsyncConnectionErrorRetryHandler(max_retry_count=retries),
            AsyncRateLimitErrorRetryHandler(max_retry_count=retries),
            AsyncServerErrorRetryHandler(max_retry_count=retries),
        ],
    )


class _CountErrors(AsyncRetryHandler):
    """Counts failed calls (``chatbot_slack_api_errors``); retries nothing itself."""

    def __init__(self) -> None:
        super().__init__(max_retry_count=1_000_000)

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if error is not None:
            metrics.SLACK_API_ERRORS.labels(kind=type(error).__name__).inc()
        elif response is not None and response.status_code == 429:
            metrics.SLACK_API_ERRORS.labels(kind="rate_limited").inc()
        elif response is not None and response.status_code >= 500:
            metrics.SLACK_API_ERRORS.labels(kind="server_error").inc()
        return False
