"""Answer again: a new answer beside the old ones, delivered in the same thread (the admin's)."""

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence

from django.conf import settings

from application.answering import agent as answer_agent
from application.answering import delivery, passages
from application.answering import live as live_module
from application.answering import messenger as messenger_module
from domain.questions import records

logger = logging.getLogger(__name__)

# Each answer costs model calls and may post in Slack: "select all" over a year of questions
# is almost certainly a slip.
LIMIT = 100


class TooMany(Exception):
    """More questions than one request may answer again; nothing was queued."""


def request(*, question_ids: Sequence[int], enqueue: Callable[[Sequence[int]], None]) -> int:
    """Queue a new answer for each question (sync: the admin's actions are); how many.

    ``enqueue`` defers the jobs (``chatbot.tasks.queue_answer_again``). Raises
    :class:`TooMany`, queueing nothing, for more than :data:`LIMIT` questions.
    """
    if len(question_ids) > LIMIT:
        raise TooMany(f"Select at most {LIMIT} questions to answer again; nothing queued.")
    enqueue(question_ids)
    return len(question_ids)


async def _answer_and_deliver(
    *,
    question_id: int,
    text: str,
    history: list[records.Turn],
    conversation: messenger_module.Conversation,
    messenger: messenger_module.Messenger,
    search: answer_agent.Search,
) -> delivery.Outcome:
    async def known_question_id() -> int:
        return question_id

    live = live_module.Live(
        messenger=messenger, question_id=known_question_id, slack_channel_id=conversation.channel_id
    )
    async with asyncio.TaskGroup() as group:
        group.create_task(live_module.show_status(messenger))
        group.create_task(live.send_updates())
        generating = group.create_task(
            live_module.generate_shown(
                live=live, show=True, question=text, history=history, search=search
            )
        )
    generated = generating.result()
    # An admin's answer-again is not retried for a lost apology: the retry would ask the
    # model again, and the admin sees the failure on the question anyway.
    return await delivery.finish(
        question_id=question_id,
        generated=generated,
        conversation=conversation,
        messenger=messenger,
        live=live,
        retry_apology=False,
    )


async def answer_again(
    *,
    question_id: int,
    make_messenger: Callable[[messenger_module.Conversation], messenger_module.Messenger],
    requested_at: dt.datetime | None = None,
) -> delivery.Outcome | None:
    """A new answer beside the old ones (an admin asked for it), delivered in the same thread.

    None, doing nothing, when the question got an answer since ``requested_at``: that answer
    is the one this request asked for (a second click, a resent POST).
    """
    if requested_at is not None and await records.answered_since(
        question_id=question_id, since=requested_at
    ):
        logger.info("Question %s was answered again since %s; not again", question_id, requested_at)
        return None
    question = await records.get(question_id=question_id)
    history = await records.thread_history(
        channel_id=question.channel_id,
        thread_ts=question.thread_ts,
        before=question.asked_at,
        max_turns=settings.CHATBOT_HISTORY_MAX_TURNS,
        max_chars=settings.CHATBOT_HISTORY_MAX_CHARS,
    )
    conversation = messenger_module.Conversation(
        team_id=question.team_id,
        channel_id=question.channel_id,
        thread_ts=question.thread_ts,
        message_ts=question.message_ts,
        asker_id=question.asker_id,
        private=question.private,
    )
    return await _answer_and_deliver(
        question_id=question.id,
        text=question.text,
        history=history,
        conversation=conversation,
        messenger=make_messenger(conversation),
        search=passages.search,
    )
