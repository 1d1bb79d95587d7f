"""Answer a question: the product's main use case, for Slack events, the terminal and re-answers.

The shape follows docs/architecture.md: one prefetching read up front; the slow parts (status,
the question's record, the answer agent, which also labels the question) run concurrently in a
``TaskGroup``, holding no connection (the backend gives it back between queries); writes
happen in small sync functions, each run in one transaction through ``application.writes``.

Exactly-once delivery to Slack: the Slack message ts is stored the moment the message exists
(on an empty, unfinished answer while a streaming model is still writing; otherwise the
answer is stored before it is posted), and delivery is marked at the end. A re-run (Slack
retry reaching a new job, procrastinate retrying a failed or stalled job) looks at that state
and only does what is left: nothing, post the stored answer, finish the message it already
started, answer again into that message when the model had not finished, or only send the
apology when the model had failed and Slack had not taken it.
"""

import asyncio
import dataclasses
import datetime as dt

from django.conf import settings

from application import writes
from application.answering import admission, delivery, storing
from application.answering import agent as answer_agent
from application.answering import live as live_module
from application.answering import messenger as messenger_module
from data import models
from domain.questions import records


@dataclasses.dataclass(frozen=True, kw_only=True)
class Incoming:
    text: str
    via: str  # models.Question.Channel
    asked_at: dt.datetime
    conversation: messenger_module.Conversation
    slack_event_id: int | None = None
    external: bool = False  # from another organisation (a Slack Connect channel)


def _new_question(incoming: Incoming) -> records.NewQuestion:
    conversation = incoming.conversation
    return records.NewQuestion(
        via=incoming.via,
        text=incoming.text,
        asked_at=incoming.asked_at,
        slack_event_id=incoming.slack_event_id,
        team_id=conversation.team_id,
        channel_id=conversation.channel_id,
        thread_ts=conversation.thread_ts,
        message_ts=conversation.message_ts,
        asker_id=conversation.asker_id,
        private=conversation.private,
    )


async def answer(
    *,
    incoming: Incoming,
    messenger: messenger_module.Messenger,
    search: answer_agent.Search,
) -> delivery.Outcome:
    """Answer a newly asked question, or finish what an earlier run of it left undone."""
    conversation = incoming.conversation
    existing = (
        await records.for_slack_event(slack_event_id=incoming.slack_event_id)
        if incoming.slack_event_id is not None
        else None
    )
    if incoming.slack_event_id is not None:
        refusal = admission.refusal_of(existing) if existing is not None else None
        if existing is None:
            verdict = await writes.write(
                admission.admit, new=_new_question(incoming), external=incoming.external
            )
            existing_id, refusal = verdict.question_id, verdict.refusal
        else:
            existing_id = existing.id
        if refusal is not None:
            # Raises DeliveryFailed: the job's retry tells them (the question stays refused).
            await messenger.say(text=refusal.message)
            return delivery.Outcome(
                question_id=existing_id, status=refusal.status, answer_id=None, text=refusal.message
            )
    history = await records.thread_history(
        channel_id=conversation.channel_id,
        thread_ts=conversation.thread_ts,
        before=incoming.asked_at,
        max_turns=settings.CHATBOT_HISTORY_MAX_TURNS,
        max_chars=settings.CHATBOT_HISTORY_MAX_CHARS,
    )

    latest = existing.latest_answer if existing is not None else None
    unfinished = latest is not None and not latest.text
    if existing is not None and latest is not None and not unfinished:
        if not latest.delivered:
            await delivery.deliver(
                question_id=existing.id, answer=latest, messenger=messenger, rerun=True
            )
        return delivery.Outcome(
            question_id=existing.id,
            status=records.delivered_status(covered=latest.covered),
            answer_id=latest.id,
            text=latest.text,
        )
    if existing is not None and existing.status == models.Question.Status.FAILED:
        # An earlier run gave up on the model but could not tell the asker: only that is left.
        ref = latest.slack_message_ts if latest is not None else ""
        if not await delivery.apologise(
            question_id=existing.id, messenger=messenger, existing_ref=ref
        ):
            raise delivery.ApologyUndelivered(f"question {existing.id}: the asker was not told")
        if latest is not None:
            await writes.write(storing.forget_unfinished_answer, answer_id=latest.id)
        return delivery.Outcome(
            question_id=existing.id,
            status=models.Question.Status.FAILED,
            answer_id=None,
            text=delivery.APOLOGY,
        )

    context = await live_module.asker_context(messenger, conversation=conversation)
    async with asyncio.TaskGroup() as group:
        showing = group.create_task(live_module.show_status(messenger))
        if not history:
            group.create_task(live_module.name_thread(messenger, question=incoming.text))
        storing_question = group.create_task(
            writes.write(storing.start_question, new=_new_question(incoming))
        )

        async def stored_question_id() -> int:
            return await storing_question

        group.create_task(live_module.record_names(messenger, question_id=stored_question_id))

        # An earlier run died while its answer was streaming: answer again into that message.
        live = live_module.Live(
            messenger=messenger,
            question_id=stored_question_id,
            slack_channel_id=conversation.channel_id,
            answer_id=latest.id if latest is not None and unfinished else None,
            ts=latest.slack_message_ts if latest is not None and unfinished else "",
        )
        group.create_task(live.send_updates())
        generating = group.create_task(
            live_module.generate_shown(
                live=live,
                show=not unfinished,
                question=incoming.text,
                history=history,
                search=search,
                context=context,
            )
        )
    shown_at = showing.result()
    return await delivery.finish(
        question_id=storing_question.result(),
        generated=generating.result(),
        conversation=conversation,
        messenger=messenger,
        live=live,
        retry_apology=True,
        first_status_ms=None
        if shown_at is None
        else records.elapsed_ms(start=incoming.asked_at, end=shown_at),
    )


GAVE_UP = (
    "Sorry, I couldn't answer this question: something kept failing on my side and I've "
    "stopped trying. The team can see what went wrong; please ask again later."
)


async def give_up(*, incoming: Incoming, messenger: messenger_module.Messenger, error: str) -> None:
    """The job's last attempt failed: the question is FAILED with the error (for the admin),
    and the asker is told, unless they already have their answer or were told why not."""
    existing = (
        await records.for_slack_event(slack_event_id=incoming.slack_event_id)
        if incoming.slack_event_id is not None
        else None
    )
    if existing is not None and existing.status in (
        models.Question.Status.ANSWERED,
        models.Question.Status.NOT_COVERED,
        models.Question.Status.LIMITED,
        models.Question.Status.EXTERNAL,
    ):
        return
    question_id = (
        existing.id
        if existing is not None
        else await writes.write(storing.start_question, new=_new_question(incoming))
    )
    await writes.write(storing.record_given_up, question_id=question_id, error=error)
    latest = existing.latest_answer if existing is not None else None
    # A half-written answer's message becomes the apology, as after a model failure.
    ref = latest.slack_message_ts if latest is not None and not latest.delivered else ""
    await delivery.apologise(
        question_id=question_id, messenger=messenger, existing_ref=ref, text=GAVE_UP
    )
