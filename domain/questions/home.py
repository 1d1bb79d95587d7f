"""What a person's App Home shows: what the bot knows, and their latest questions."""

import dataclasses
import datetime as dt

from django.db.models import Count, Max

from data import models


@dataclasses.dataclass(frozen=True, kw_only=True)
class SourceSummary:
    name: str
    pages: int
    last_synced: dt.datetime | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecentQuestion:
    text: str
    status: str  # the status's label ("Answered", "Not covered", ...)
    asked_at: dt.datetime
    channel_id: str
    thread_ts: str
    private: bool


async def sources() -> list[SourceSummary]:
    """Every documentation source with its page count and its latest ingest, in one query."""
    rows = (
        models.DocumentationSource.objects.annotate(
            pages=Count("documents"), last_synced=Max("documents__ingested_at")
        )
        .order_by("name")
        .values_list("name", "pages", "last_synced")
    )
    return [
        SourceSummary(name=name, pages=pages, last_synced=last_synced)
        async for name, pages, last_synced in rows
    ]


async def recent_questions(*, asker_id: str, limit: int) -> list[RecentQuestion]:
    labels = dict(models.Question.Status.choices)
    rows = (
        models.Question.objects.filter(asker_id=asker_id)
        .order_by("-asked_at", "-id")
        .values_list("text", "status", "asked_at", "channel_id", "thread_ts", "private")[:limit]
    )
    return [
        RecentQuestion(
            text=text,
            status=str(labels.get(status, status)),
            asked_at=asked_at,
            channel_id=channel_id,
            thread_ts=thread_ts,
            private=private,
        )
        async for text, status, asked_at, channel_id, thread_ts, private in rows
    ]
