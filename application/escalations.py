""" "Ask a person": record the request and queue its job at once (while Slack waits), then,
in the job, post the thread's link where people help and tell the asker.

The request and its job are written in one transaction, so a pressed button is never lost.
The job's two posts carry the request's id (Slack message metadata). Until the post is on
record the job looks for it first (one ``conversations.history`` call; a run cannot tell
whether it is a re-run), and once a post was made before it looks for the thread's note: a
worker that died after posting and before recording posts neither again.
"""

import enum
from collections.abc import Callable
from typing import Protocol

from django.conf import settings
from django.utils import timezone

from application import writes
from domain.questions import escalations


class Outcome(enum.StrEnum):
    ASKED = "asked"
    ALREADY_ASKED = "already asked"  # one is open for this question: nobody is asked twice
    NO_ROUTE = "no route"  # no channel helps with the question's channel
    UNKNOWN_ANSWER = "unknown answer"


def _open(
    *, answer_id: int, requested_by: str, enqueue: Callable[[int], None]
) -> escalations.Opened | None:
    opened = escalations.open_escalation(
        answer_id=answer_id,
        requested_by=requested_by,
        routes=settings.ESCALATION_ROUTES,
        now=timezone.now(),
    )
    if opened is not None and opened.new:
        enqueue(opened.escalation_id)
    return opened


async def ask_a_person(
    *, answer_id: int, slack_user_id: str, enqueue: Callable[[int], None]
) -> Outcome:
    """Record the request and call ``enqueue(escalation_id)`` in the same transaction.

    ``enqueue`` must be synchronous and use Django's connection (procrastinate's Django
    connector does) so that it joins the transaction.
    """
    try:
        opened = await writes.write(
            _open, answer_id=answer_id, requested_by=slack_user_id, enqueue=enqueue
        )
    except escalations.UnknownAnswer:
        return Outcome.UNKNOWN_ANSWER
    if opened is None:
        return Outcome.NO_ROUTE
    return Outcome.ASKED if opened.new else Outcome.ALREADY_ASKED


class Notifier(Protocol):
    """Reaches the people who help (Slack, in ``chatbot/``)."""

    async def notify(self, *, request: escalations.Request) -> str:
        """Post the request where people help; the post's ts."""

    async def find_notification(self, *, request: escalations.Request) -> str:
        """The ts of this request's post where people help, if an earlier run made it; "" if
        not."""

    async def tell_asker(self, *, request: escalations.Request) -> None:
        """Say in the question's thread that a person was asked."""

    async def asker_was_told(self, *, request: escalations.Request) -> bool:
        """Whether the question's thread already says so (an earlier run said it)."""


async def capture_reply(*, channel_id: str, thread_ts: str, replier_id: str, text: str) -> int:
    """A person (not the asker) replied in a thread waiting for one: their reply answers the
    thread's open requests, for the admin. How many it answered."""
    return await writes.write(
        escalations.record_person_answer,
        channel_id=channel_id,
        thread_ts=thread_ts,
        replier_id=replier_id,
        text=text,
        now=timezone.now(),
    )


async def notify(*, escalation_id: int, notifier: Notifier) -> None:
    """The job: post the request and tell the asker, each unless an earlier run did."""
    request = await escalations.get(escalation_id=escalation_id)
    posted_before = bool(request.notified_ts)
    if not posted_before:
        ts = await notifier.find_notification(request=request)
        posted_before = bool(ts)
        if not ts:
            ts = await notifier.notify(request=request)
        await writes.write(
            escalations.record_notified, escalation_id=escalation_id, ts=ts, now=timezone.now()
        )
    if posted_before and await notifier.asker_was_told(request=request):
        return
    await notifier.tell_asker(request=request)
