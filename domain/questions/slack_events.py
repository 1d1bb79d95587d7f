"""The Slack inbox: every event we acknowledge is stored once, keyed by Slack's ``event_id``."""

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from django.db import connection

from data import models


@dataclasses.dataclass(frozen=True, kw_only=True)
class StoredEvent:
    id: int
    event_id: str
    team_id: str
    event_type: str
    payload: dict[str, Any]
    processed_at: dt.datetime | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class NewEvent:
    event_id: str
    team_id: str
    event_type: str
    payload: dict[str, Any]


def record_all(*, events: Sequence[NewEvent], now: dt.datetime) -> dict[str, int]:
    """Insert the events; the ids of those inserted, by ``event_id``. One already there (a
    retry or a concurrent copy) is left out. ``event_id`` values must be distinct.

    Call inside the caller's atomic block. One statement for all the events,
    ``INSERT ... ON CONFLICT DO NOTHING``: a duplicate leaves the caller's transaction usable
    without the two extra round trips of a savepoint, and Slack is waiting. A concurrent copy
    waits on the unique index until the first insert commits, then inserts nothing, so exactly
    one copy gets through. Rows go in ``event_id`` order, so two groups inserting some of the
    same events wait on each other in the same order and never deadlock.
    """
    if not events:
        return {}
    ordered = sorted(events, key=lambda event: event.event_id)
    values = ", ".join(["(%s, %s, %s, %s::jsonb, %s)"] * len(ordered))
    params: list[Any] = []
    for event in ordered:
        params += [event.event_id, event.team_id, event.event_type, json.dumps(event.payload), now]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {models.SlackEvent._meta.db_table} "
            f"(event_id, team_id, event_type, payload, received_at) VALUES {values} "
            "ON CONFLICT (event_id) DO NOTHING RETURNING event_id, id",
            params,
        )
        return {event_id: int(stored_id) for event_id, stored_id in cursor.fetchall()}


async def get(*, id: int) -> StoredEvent:
    event = await models.SlackEvent.objects.aget(pk=id)
    return StoredEvent(
        id=event.pk,
        event_id=event.event_id,
        team_id=event.team_id,
        event_type=event.event_type,
        payload=event.payload,
        processed_at=event.processed_at,
    )


_ASSISTANT_THREAD_EVENTS = ("assistant_thread_started", "assistant_thread_context_changed")


async def assistant_context(*, channel_id: str, thread_ts: str) -> str:
    """The channel the person was viewing when they opened, or last moved, this assistant
    thread (Slack sends it with those two events); "" if none is known."""
    if not channel_id or not thread_ts:
        return ""
    payload = await (
        models.SlackEvent.objects.filter(
            event_type__in=_ASSISTANT_THREAD_EVENTS,
            payload__event__assistant_thread__channel_id=channel_id,
            payload__event__assistant_thread__thread_ts=thread_ts,
        )
        .order_by("-received_at", "-id")
        .values_list("payload", flat=True)
        .afirst()
    )
    thread = ((payload or {}).get("event") or {}).get("assistant_thread") or {}
    context = thread.get("context") if isinstance(thread, dict) else None
    viewed = context.get("channel_id") if isinstance(context, dict) else None
    return viewed if isinstance(viewed, str) else ""


def mark_processed(*, id: int, now: dt.datetime) -> None:
    """The job did what the event asked; call inside the caller's atomic block."""
    models.SlackEvent.objects.filter(pk=id, processed_at__isnull=True).update(processed_at=now)
