"""Accept Slack events durably: record them in the inbox and queue their jobs in one transaction.

Slack retries an event it did not see acknowledged, and may deliver copies at the same moment.
The unique ``event_id`` lets exactly one copy in; the jobs are deferred in the same transaction,
so an acknowledged event always has its job and a failed insert never leaves a stray job.
If the database is down this raises, the endpoint answers 5xx, and Slack tries again later.

Events that arrive together are accepted together (``chatbot/slack_inbox.py`` groups them):
one insert for all of them and one defer for all their jobs, in one transaction on one
connection. For a reply in a thread, whether it follows up on an answer of the bot is asked in
that transaction too, so Slack waits for one round of database work, never two.
"""

import dataclasses
import datetime as dt
import enum
from collections.abc import Callable, Sequence
from typing import Any

from django.utils import timezone

from application import writes
from domain.questions import escalations, records, slack_events

# A reply by someone other than the asker in a thread waiting for a person: not a question,
# but maybe the person's answer (stored under this type, handled by its own job).
PERSON_REPLY = "person_reply"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ThreadReply:
    """A person's reply in a thread: a question only where the bot already answered them."""

    channel_id: str
    thread_ts: str
    asker_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Event:
    """An Events API envelope worth storing. With ``follow_up_of``, it is stored only when
    the bot has answered that person in that thread."""

    event_id: str
    team_id: str
    event_type: str
    payload: dict[str, Any]
    follow_up_of: ThreadReply | None = None


class Outcome(enum.StrEnum):
    STORED = "stored"
    REPEATED = "repeated"  # Slack's retry, or a copy delivered at the same moment
    NOT_A_FOLLOW_UP = "not a follow-up"  # people talking in a thread the bot did not answer


def _is_follow_up(reply: ThreadReply) -> bool:
    return records.bot_answered_in_thread(
        channel_id=reply.channel_id, thread_ts=reply.thread_ts, asker_id=reply.asker_id
    )


def _accept_all(
    *, events: Sequence[Event], enqueue: Callable[[list[int]], None], now: dt.datetime
) -> list[Outcome]:
    outcomes: dict[int, Outcome] = {}
    first_copies: dict[str, int] = {}  # event_id -> index of its first copy in ``events``
    kinds: dict[int, str] = {}
    for index, event in enumerate(events):
        reply = event.follow_up_of
        if reply is not None and not _is_follow_up(reply):
            if not escalations.awaits_a_person(
                channel_id=reply.channel_id, thread_ts=reply.thread_ts, replier_id=reply.asker_id
            ):
                outcomes[index] = Outcome.NOT_A_FOLLOW_UP
                continue
            kinds[index] = PERSON_REPLY
        if event.event_id in first_copies:
            outcomes[index] = Outcome.REPEATED
        else:
            first_copies[event.event_id] = index
    stored = slack_events.record_all(
        events=[
            slack_events.NewEvent(
                event_id=events[index].event_id,
                team_id=events[index].team_id,
                event_type=kinds.get(index, events[index].event_type),
                payload=events[index].payload,
            )
            for index in first_copies.values()
        ],
        now=now,
    )
    stored_ids = []
    for event_id, index in first_copies.items():
        stored_id = stored.get(event_id)
        outcomes[index] = Outcome.REPEATED if stored_id is None else Outcome.STORED
        if stored_id is not None:
            stored_ids.append(stored_id)
    if stored_ids:
        enqueue(stored_ids)
    return [outcomes[index] for index in range(len(events))]


async def accept_all(
    *, events: Sequence[Event], enqueue: Callable[[list[int]], None]
) -> list[Outcome]:
    """Store the events and call ``enqueue(stored_ids)`` inside the same transaction; each
    event's outcome, in order. Of copies of one event, only the first can be STORED.

    ``enqueue`` must be synchronous and use Django's connection (procrastinate's Django
    connector does) so that it joins the transaction.
    """
    return await writes.write(_accept_all, events=events, enqueue=enqueue, now=timezone.now())
