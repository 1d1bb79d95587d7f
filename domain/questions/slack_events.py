"""The Slack inbox: every event we acknowledge is stored once, keyed by Slack's ``event_id``."""

import dataclasses
import datetime as dt
import json
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


def record(
    *, event_id: str, team_id: str, event_type: str, payload: dict[str, Any], now: dt.datetime
) -> int | None:
    """Insert the event; ``None`` when it is already there (a retry or a concurrent copy).

    Call inside the caller's atomic block. One statement, ``INSERT ... ON CONFLICT DO
    NOTHING``: a duplicate leaves the caller's transaction usable without the two extra round
    trips of a savepoint, and Slack is waiting. A concurrent copy waits on the unique index
    until the first insert commits, then inserts nothing, so exactly one copy gets through.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {models.SlackEvent._meta.db_table} "
            "(event_id, team_id, event_type, payload, received_at) "
            "VALUES (%s, %s, %s, %s::jsonb, %s) "
            "ON CONFLICT (event_id) DO NOTHING RETURNING id",
            [event_id, team_id, event_type, json.dumps(payload), now],
        )
        row = cursor.fetchone()
    return None if row is None else int(row[0])


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


def mark_processed(*, id: int, now: dt.datetime) -> None:
    """The job did what the event asked; call inside the caller's atomic block."""
    models.SlackEvent.objects.filter(pk=id, processed_at__isnull=True).update(processed_at=now)
