"""The slack-bolt app: which Slack events become questions, and the feedback buttons.

Bolt runs with ``process_before_response=True``: a listener finishes before Slack gets its
response. The listeners only do one quick database write (inbox row + job, or a vote), so the
acknowledgement still takes milliseconds, and it is sent only once the event is safely stored;
if the write fails, Slack gets a 500 and retries instead of the event being lost.
"""

import functools
import logging
import re
from typing import Any

from django.conf import settings
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from application import feedback, inbox
from chatbot import messengers, slack_client, tasks
from data import models

logger = logging.getLogger(__name__)


def _enqueue(stored_id: int) -> None:
    tasks.answer_slack_event.defer(slack_event_id=stored_id)


async def _accept(body: dict[str, Any]) -> None:
    accepted = await inbox.accept(
        event_id=str(body.get("event_id", "")),
        team_id=str(body.get("team_id", "")),
        event_type=str(body["event"].get("type", "")),
        payload=body,
        enqueue=_enqueue,
    )
    if not accepted:
        logger.info("Dropped a repeated delivery of event %s", body.get("event_id"))


# A person's message with a file (a screenshot in a DM) or a thread reply also sent to the
# channel is still a question; edits, deletions, joins and the like are not.
_QUESTION_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})


def _from_a_person(event: dict[str, Any]) -> bool:
    """Bot posts (ours included) and housekeeping subtypes are not questions."""
    return (
        bool(event.get("user"))
        and event.get("subtype") in _QUESTION_SUBTYPES
        and not (event.get("bot_id") or event.get("bot_profile"))
    )


async def on_app_mention(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any]) -> None:
    if _from_a_person(event) and body.get("event_id"):
        await _accept(body)
    await ack()


async def on_message(
    ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
) -> None:
    if _from_a_person(event) and body.get("event_id"):
        mentions_bot = bool(context.bot_user_id) and f"<@{context.bot_user_id}>" in event.get(
            "text", ""
        )
        if event.get("channel_type") == "im":
            # Direct messages and the assistant pane (its threads live in the app's DM).
            await _accept(body)
        elif (
            not mentions_bot  # a mention arrives as app_mention too; that copy is the question
            and event.get("thread_ts")
            and event.get("thread_ts") != event.get("ts")
            and await inbox.is_follow_up(
                channel_id=event.get("channel", ""),
                thread_ts=event["thread_ts"],
                asker_id=event["user"],
            )
        ):
            await _accept(body)
    await ack()


async def on_assistant_thread_started(ack: AsyncAck, body: dict[str, Any]) -> None:
    """Someone opened the assistant pane: greet them there (through the inbox, so once)."""
    if body.get("event_id"):
        await _accept(body)
    await ack()


async def on_other_event(ack: AsyncAck) -> None:
    """Subscribed events we do not act on (assistant_thread_context_changed) are acknowledged."""
    await ack()


async def on_other_action(ack: AsyncAck) -> None:
    """A button we do not know (e.g. from a future version) is acknowledged, or Slack shows the
    person an error next to it."""
    await ack()


async def on_feedback(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
    vote = (
        models.Feedback.Vote.UP
        if action["action_id"] == messengers.FEEDBACK_UP
        else models.Feedback.Vote.DOWN
    )
    try:
        answer_id = int(action.get("value", ""))
    except ValueError:
        answer_id = 0
    stored = await feedback.record_vote(
        answer_id=answer_id, slack_user_id=body.get("user", {}).get("id", ""), vote=vote
    )
    if not stored:
        logger.warning("Feedback for unknown answer %r ignored", action.get("value"))
    await ack()


class SlackNotConfigured(Exception):
    """SLACK_SIGNING_SECRET or SLACK_BOT_TOKEN is missing."""


@functools.cache
def _build(signing_secret: str, token: str, api_url: str) -> AsyncApp:
    app = AsyncApp(
        signing_secret=signing_secret,
        client=slack_client.web_client(),
        process_before_response=True,
        # Only Socket Mode builds the app without a secret, and its envelopes are not signed.
        request_verification_enabled=bool(signing_secret),
        logger=logging.getLogger("chatbot.slack_bolt"),
    )
    app.event("app_mention")(on_app_mention)
    app.event("message")(on_message)
    app.event("assistant_thread_started")(on_assistant_thread_started)
    app.action(re.compile(f"^({messengers.FEEDBACK_UP}|{messengers.FEEDBACK_DOWN})$"))(on_feedback)
    app.action(re.compile(".*"))(on_other_action)
    app.event(re.compile(".*"))(on_other_event)
    return app


def get_app(*, socket_mode: bool = False) -> AsyncApp:
    """The bolt app for the current settings (rebuilt when they change, e.g. in tests).

    Socket Mode needs no signing secret: Slack's envelopes arrive over a WebSocket the server
    opened itself with the app-level token, not as signed HTTP requests.
    """
    if not settings.SLACK_SIGNING_SECRET and not socket_mode:
        raise SlackNotConfigured(
            "Slack is not configured: set SLACK_SIGNING_SECRET (and SLACK_BOT_TOKEN) "
            "from the app's Basic Information and OAuth pages."
        )
    if not settings.SLACK_BOT_TOKEN:
        raise SlackNotConfigured("Slack is not configured: set SLACK_BOT_TOKEN (xoxb-...).")
    return _build(settings.SLACK_SIGNING_SECRET, settings.SLACK_BOT_TOKEN, settings.SLACK_API_URL)
