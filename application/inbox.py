"""Accept a Slack event durably: record it in the inbox and queue its job in one transaction.

Slack retries an event it did not see acknowledged, and may deliver copies at the same moment.
The unique ``event_id`` lets exactly one copy in; the job is deferred in the same transaction,
so an acknowledged event always has its job and a failed insert never leaves a stray job.
If the database is down this raises, the endpoint answers 5xx, and Slack tries again later.

Everything the acknowledgement needs from the database happens in that one transaction, on one
connection: for a reply in a thread, whether it follows up on an answer of the bot is asked
there too, so Slack waits for one round of database work, never two.
"""

import dataclasses
import enum
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from application import writes
from domain.questions import records, slack_events


@dataclasses.dataclass(frozen=True, kw_only=True)
class ThreadReply:
    """A person's reply in a thread: a question only where the bot already answered them."""

    channel_id: str
    thread_ts: str
    asker_id: str


class Outcome(enum.StrEnum):
    STORED = "stored"
    REPEATED = "repeated"  # Slack's retry, or a copy delivered at the same moment
    NOT_A_FOLLOW_UP = "not a follow-up"  # people talking in a thread the bot did not answer


def _accept(
    *,
    event_id: str,
    team_id: str,
    event_type: str,
    payload: dict[str, Any],
    enqueue: Callable[[int], None],
    follow_up_of: ThreadReply | None,
) -> Outcome:
    if follow_up_of is not None and not records.bot_answered_in_thread(
        channel_id=follow_up_of.channel_id,
        thread_ts=follow_up_of.thread_ts,
        asker_id=follow_up_of.asker_id,
    ):
        return Outcome.NOT_A_FOLLOW_UP
    stored_id = slack_events.record(
        event_id=event_id,
        team_id=team_id,
        event_type=event_type,
        payload=payload,
        now=timezone.now(),
    )
    if stored_id is None:
        return Outcome.REPEATED
    enqueue(stored_id)
    return Outcome.STORED


async def accept(
    *,
    event_id: str,
    team_id: str,
    event_type: str,
    payload: dict[str, Any],
    enqueue: Callable[[int], None],
    follow_up_of: ThreadReply | None = None,
) -> Outcome:
    """Store the event and call ``enqueue(stored_id)`` inside the same transaction.

    ``enqueue`` must be synchronous and use Django's connection (procrastinate's Django
    connector does) so that it joins the transaction. With ``follow_up_of``, the event is
    stored only when the bot has answered that person in that thread.
    """
    return await writes.write(
        _accept,
        event_id=event_id,
        team_id=team_id,
        event_type=event_type,
        payload=payload,
        enqueue=enqueue,
        follow_up_of=follow_up_of,
    )
