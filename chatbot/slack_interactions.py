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

from application import escalations
from chatbot import slack_client, slack_feedback_form

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
