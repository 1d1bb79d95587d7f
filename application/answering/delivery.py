"""Deliver a finished answer exactly once, or tell the asker the model failed.

The Slack message ts is stored the moment the message exists, and delivery is marked at the
end, so a re-run of the job only does what is left (docs/architecture.md, "Writes").
"""

import dataclasses
import logging

from django.conf import settings
from django.utils import timezone

from application import writes
from application.answering import generation, storing
from application.answering import live as live_module
from application.answering import messenger as messenger_module
from data import models
from domain.questions import records

logger = logging.getLogger(__name__)

APOLOGY = (
    "Sorry, I couldn't come up with an answer just now: the language model did not respond. "
    "The question is logged for the team; please try again in a few minutes."
)


class AnswerUndelivered(Exception):
    """The answer is stored but Slack did not take it; a retry of the job delivers it."""


class ApologyUndelivered(Exception):
    """The model failed and the asker could not be told; a retry of the job only tells them."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Outcome:
    question_id: int
    status: str
    answer_id: int | None
    text: str


async def deliver(
    *,
    question_id: int,
    answer: records.AnswerState,
    messenger: messenger_module.Messenger,
    rerun: bool = False,
) -> str:
    """Deliver a stored answer; ``rerun``: an earlier run may have posted it already.

    A re-run with no message on record asks Slack first (the messages carry the answer's id),
    so a database write lost after posting never makes a second copy.
    """
    outgoing = messenger_module.OutgoingAnswer(
        question_id=question_id,
        answer_id=answer.id,
        text=answer.text,
        covered=answer.covered,
        sources=[
            messenger_module.Source(title=c.title, heading=c.heading, url=c.url)
            for c in answer.citations
        ],
    )

    async def on_posted(ts: str) -> None:
        await writes.write(storing.record_message_ts, answer_id=answer.id, ts=ts)

    existing_ref, continuation_refs = answer.slack_message_ts, answer.continuation_ts
    try:
        if rerun and not existing_ref:
            posted = await messenger.find_posted(question_id=question_id, answer_id=answer.id)
            if posted:
                logger.warning(
                    "Answer %s was already in Slack (%s) though not on record; completing it",
                    answer.id,
                    posted[0],
                )
                existing_ref, continuation_refs = posted[0], posted[1:]
        ts = await messenger.deliver(
            answer=outgoing,
            existing_ref=existing_ref,
            continuation_refs=continuation_refs,
            on_posted=on_posted,
        )
    except messenger_module.DeliveryFailed as failure:
        await writes.write(
            storing.record_undelivered, question_id=question_id, error=f"delivery failed: {failure}"
        )
        raise AnswerUndelivered(str(failure)) from failure
    await writes.write(
        storing.record_delivery,
        question_id=question_id,
        answer_id=answer.id,
        ts=ts,
        now=timezone.now(),
    )
    return ts


def answer_state(
    answer_id: int, generated: generation.Generated, existing_ref: str = ""
) -> records.AnswerState:
    assert generated.output is not None
    return records.AnswerState(
        id=answer_id,
        text=generated.output.answer,
        covered=generated.output.covered,
        model=settings.CHATBOT_MODEL,
        slack_message_ts=existing_ref,
        delivered=False,
        continuation_ts=[],
        citations=generated.citations,
    )


async def apologise(
    *,
    question_id: int,
    messenger: messenger_module.Messenger,
    existing_ref: str,
    text: str = APOLOGY,
) -> bool:
    """Tell the asker the model failed, in the half-written answer's message if there is one."""
    try:
        await messenger.apologise(text=text, existing_ref=existing_ref)
    except Exception:
        logger.exception("Could not deliver the apology for question %s", question_id)
        return False
    return True


async def finish(
    *,
    question_id: int,
    generated: generation.Generated,
    conversation: messenger_module.Conversation,
    messenger: messenger_module.Messenger,
    live: live_module.Live,
    retry_apology: bool,
    first_status_ms: int | None = None,
) -> Outcome:
    """Record and deliver what the model produced (or the apology). ``first_status_ms`` is
    how long the asker waited for a sign of life, for the admin's dashboard."""
    if generated.output is None:
        told = await apologise(question_id=question_id, messenger=messenger, existing_ref=live.ts)
        if not told and retry_apology:
            # FAILED, but the unfinished answer stays: its message is where the job's retry
            # puts the apology (the retry does not ask the model again).
            await writes.write(
                storing.record_failure,
                question_id=question_id,
                generated=generated,
                live_answer_id=None,
                first_status_ms=first_status_ms,
            )
            raise ApologyUndelivered(f"question {question_id}: the asker was not told")
        await writes.write(
            storing.record_failure,
            question_id=question_id,
            generated=generated,
            live_answer_id=live.answer_id,
            first_status_ms=first_status_ms,
        )
        return Outcome(
            question_id=question_id,
            status=models.Question.Status.FAILED,
            answer_id=None,
            text=APOLOGY,
        )
    answer_id = await writes.write(
        storing.record_answer,
        question_id=question_id,
        generated=generated,
        # A private answer has no message in the channel to link to.
        slack_channel_id="" if conversation.private else conversation.channel_id,
        now=timezone.now(),
        live_answer_id=live.answer_id,
        first_status_ms=first_status_ms,
    )
    await deliver(
        question_id=question_id,
        answer=answer_state(answer_id, generated, existing_ref=live.ts),
        messenger=messenger,
    )
    return Outcome(
        question_id=question_id,
        status=records.delivered_status(covered=generated.output.covered),
        answer_id=answer_id,
        text=generated.output.answer,
    )
