"""The Slack Web API client every part of the product uses.

``SLACK_API_URL`` lets tests and proxies stand in for slack.com. Rate limits (429) are retried
after ``Retry-After``; 5xx answers and network errors are retried with backoff.
"""

from django.conf import settings
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient


def web_client(*, timeout: int = 15, with_token: bool = True) -> AsyncWebClient:
    base_url = settings.SLACK_API_URL
    if not base_url.endswith("/"):
        base_url += "/"
    retries = settings.SLACK_RETRY_LIMIT
    return AsyncWebClient(
        token=(settings.SLACK_BOT_TOKEN or None) if with_token else None,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=retries),
            AsyncRateLimitErrorRetryHandler(max_retry_count=retries),
            AsyncServerErrorRetryHandler(max_retry_count=retries),
        ],
    )
