"""The Slack inbox: every event we acknowledge is stored once, keyed by Slack's ``event_id``."""

import dataclasses
import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction

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

    Call inside the caller's atomic block: the insert runs in a savepoint so a duplicate does
    not spoil the caller's transaction. A concurrent copy waits on the unique index until the
    first insert commits, then fails here, so exactly one copy gets through.
    """
    try:
        with transaction.atomic():
            return models.SlackEvent.objects.create(
                event_id=event_id,
                team_id=team_id,
                event_type=event_type,
                payload=payload,
                received_at=now,
            ).pk
    except IntegrityError:
        return None


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
