"""People's and channels' names, from ``users.info`` and ``conversations.info``, cached.

Names are for the record (the admin shows them beside the ids), so a lookup that fails gives
"" and never holds up or fails an answer. Each process keeps what it looked up for an hour:
a busy channel costs one call an hour, not one per question.
"""

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

logger = logging.getLogger(__name__)

TTL_SECONDS = 3600.0
MAX_ENTRIES = 10_000

_cache: "OrderedDict[str, tuple[str, float]]" = OrderedDict()


def _cached(key: str) -> str | None:
    found = _cache.get(key)
    if found is None or found[1] < time.monotonic():
        return None
    return found[0]


def _remember(key: str, name: str) -> str:
    _cache[key] = (name, time.monotonic() + TTL_SECONDS)
    _cache.move_to_end(key)
    while len(_cache) > MAX_ENTRIES:
        _cache.popitem(last=False)
    return name


# Lookups under way, so that questions answered at once share one call.
_pending: dict[str, asyncio.Task[str]] = {}


def forget_all() -> None:
    """Drop every cached name (tests, or a workspace renamed everything)."""
    _cache.clear()
    _pending.clear()


async def _once(key: str, look_up: Callable[[], Awaitable[str]]) -> str:
    """The cached name, or one lookup shared by everyone who asks while it runs."""
    if (name := _cached(key)) is not None:
        return name
    task = _pending.get(key)
    if task is None or task.get_loop() is not asyncio.get_running_loop():
        task = asyncio.ensure_future(look_up())
        _pending[key] = task
        task.add_done_callback(lambda _: _pending.pop(key, None))
    return await asyncio.shield(task)


async def person(*, client: AsyncWebClient, user_id: str) -> str:
    """The person's display name (else real name, else user name); "" if unknown."""
    if not user_id:
        return ""
    return await _once(f"user:{user_id}", lambda: _person(client=client, user_id=user_id))


async def _person(*, client: AsyncWebClient, user_id: str) -> str:
    try:
        response = await client.users_info(user=user_id)
    except (SlackApiError, SlackClientError, OSError, TimeoutError) as error:
        logger.info("Could not look up user %s: %s", user_id, error)
        return ""
    user = response.get("user") or {}
    profile = user.get("profile") or {}
    name = (
        profile.get("display_name")
        or profile.get("real_name")
        or user.get("real_name")
        or user.get("name")
        or ""
    )
    return _remember(f"user:{user_id}", str(name))


async def channel(*, client: AsyncWebClient, channel_id: str) -> str:
    """ "#name" for a channel, "direct message" for a DM; "" if unknown."""
    if not channel_id:
        return ""
    return await _once(
        f"channel:{channel_id}", lambda: _channel(client=client, channel_id=channel_id)
    )


async def _channel(*, client: AsyncWebClient, channel_id: str) -> str:
    try:
        response = await client.conversations_info(channel=channel_id)
    except (SlackApiError, SlackClientError, OSError, TimeoutError) as error:
        logger.info("Could not look up channel %s: %s", channel_id, error)
        return ""
    found = response.get("channel") or {}
    if found.get("is_im"):
        name = "direct message"
    elif found.get("is_mpim"):
        name = "group message"
    else:
        name = f"#{found['name']}" if found.get("name") else ""
    return _remember(f"channel:{channel_id}", name)
