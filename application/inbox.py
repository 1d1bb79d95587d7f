"""Accept a Slack event durably: record it in the inbox and queue its job in one transaction.

Slack retries an event it did not see acknowledged, and may deliver copies at the same moment.
The unique ``event_id`` lets exactly one copy in; the job is deferred in the same transaction,
so an acknowledged event always has its job and a failed insert never leaves a stray job.
If the database is down this raises, the endpoint answers 5xx, and Slack tries again later.
"""

from collections.abc import Callable
from typing import Any

from django.utils import timezone

from application import writes
from domain import questions, slack_events


def _accept(
    *,
    event_id: str,
    team_id: str,
    event_type: str,
    payload: dict[str, Any],
    enqueue: Callable[[int], None],
) -> bool:
    stored_id = slack_events.record(
        event_id=event_id,
        team_id=team_id,
        event_type=event_type,
        payload=payload,
        now=timezone.now(),
    )
    if stored_id is None:
        return False
    enqueue(stored_id)
    return True


async def accept(
    *,
    event_id: str,
    team_id: str,
    event_type: str,
    payload: dict[str, Any],
    enqueue: Callable[[int], None],
) -> bool:
    """Store the event and call ``enqueue(stored_id)`` inside the same transaction.

    ``enqueue`` must be synchronous and use Django's connection (procrastinate's Django
    connector does) so that it joins the transaction. Returns False for a duplicate.
    """
    return await writes.write(
        _accept,
        event_id=event_id,
        team_id=team_id,
        event_type=event_type,
        payload=payload,
        enqueue=enqueue,
    )


async def is_follow_up(*, channel_id: str, thread_ts: str, asker_id: str) -> bool:
    """A message in a thread where the bot already answered this person follows up on it."""
    return await questions.bot_answered_in_thread(
        channel_id=channel_id, thread_ts=thread_ts, asker_id=asker_id
    )
