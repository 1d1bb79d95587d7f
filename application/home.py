"""A person opens the bot's App Home: show what it knows, how to ask, and their latest
questions. Read-only: two queries, then one Slack call (``publish``)."""

import dataclasses
from collections.abc import Awaitable, Callable

from django.conf import settings

from domain.questions import home

RECENT = 5


@dataclasses.dataclass(frozen=True, kw_only=True)
class Home:
    sources: list[home.SourceSummary]
    recent: list[home.RecentQuestion]
    admin_url: str  # "" when the server's public address is not configured


async def show(*, user_id: str, publish: Callable[[str, Home], Awaitable[None]]) -> None:
    base = settings.CHATBOT_PUBLIC_URL.rstrip("/")
    await publish(
        user_id,
        Home(
            sources=await home.sources(),
            recent=await home.recent_questions(asker_id=user_id, limit=RECENT),
            admin_url=f"{base}/admin/" if base else "",
        ),
    )
