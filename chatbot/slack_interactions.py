"""What a button press does once Slack has its response: open the 👎 form, or tell the
person who pressed "Ask a person" why nothing new happened.

These Web API calls come after the response, never before it: Slack waits for the response
(and retries it), while a form must open within three seconds of the press, which a job
queue cannot promise. A call that fails is logged; the vote or request is already stored.
"""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError

from application import escalations, sharing
from application.answering import messenger
from chatbot import private_messenger, slack_blocks, slack_client, slack_feedback_form
from domain.questions import sharing as shared_answers

logger = logging.getLogger(__name__)

_NOTHING_NEW = {
    escalations.Outcome.ALREADY_ASKED: (
        "A person has already been asked about this question; they will reply in this thread."
    ),
    escalations.Outcome.NO_ROUTE: (
        "Nobody is set up to take questions from this channel yet: please ask the team "
        "that owns the topic directly."
    ),
    escalations.Outcome.UNKNOWN_ANSWER: "That answer is no longer on record.",
}


def open_feedback_form(*, trigger_id: str, answer_id: int) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        client = slack_client.web_client(timeout=3, shared_session=True)
        try:
            await client.views_open(
                trigger_id=trigger_id, view=slack_feedback_form.form(answer_id=answer_id)
            )
        except (SlackApiError, SlackClientError, OSError, TimeoutError) as error:
            logger.warning("Could not open the feedback form: %s", error)

    return run


def tell_presser(
    *, payload: dict[str, Any], outcome: escalations.Outcome
) -> Callable[[], Awaitable[None]]:
    """An ephemeral note when the press asked nobody new (the job's post in the thread
    confirms a new request)."""

    async def run() -> None:
        text = _NOTHING_NEW.get(outcome)
        container = payload.get("container")
        if text is None or not isinstance(container, dict):
            return
        channel_id = container.get("channel_id")
        if not isinstance(channel_id, str):
            return
        thread_ts = container.get("thread_ts") or container.get("message_ts")
        client = slack_client.web_client(timeout=5, shared_session=True)
        try:
            await client.chat_postEphemeral(
                channel=channel_id,
                user=payload["user"]["id"],
                text=text,
                thread_ts=thread_ts if isinstance(thread_ts, str) else None,
            )
        except (SlackApiError, SlackClientError, OSError, TimeoutError) as error:
            logger.warning("Could not answer the Ask a person press: %s", error)

    return run


_NOT_SHARED = {
    sharing.Outcome.NOT_YOURS_OR_SHARED: (
        "This answer is shared already, or it is someone else's to share."
    ),
    sharing.Outcome.FAILED: "I couldn't share the answer just now; please try again.",
}


def share_answer(*, payload: dict[str, Any], answer_id: int) -> Callable[[], Awaitable[None]]:
    """Post a private answer in the channel, attributed to the asker, through the press's
    ``response_url``, and remove the private copy; or say why not, privately."""

    async def run() -> None:
        url = payload.get("response_url")
        if not isinstance(url, str) or not url:
            return

        async def post(shared: shared_answers.SharedAnswer) -> None:
            await private_messenger.send(
                url=url,
                response_type="in_channel",
                text=f"<@{shared.asker_id}> asked: {shared.question_text[:200]}",
                blocks=slack_blocks.shared_answer(shared),
                unfurl_links=False,
            )
            try:
                await private_messenger.send(url=url, delete_original=True)
            except messenger.DeliveryFailed as error:
                logger.info("The private copy of answer %s stays: %s", answer_id, error)

        outcome = await sharing.share(answer_id=answer_id, user_id=payload["user"]["id"], post=post)
        if outcome in _NOT_SHARED:
            try:
                await private_messenger.send(
                    url=url,
                    response_type="ephemeral",
                    replace_original=False,
                    text=_NOT_SHARED[outcome],
                )
            except messenger.DeliveryFailed as error:
                logger.warning("Could not say why answer %s was not shared: %s", answer_id, error)

    return run
