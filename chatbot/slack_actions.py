"""Slack's interactivity: button presses, the 👎 form, the message shortcut and ``/ask``.

Each is checked for the shape the bot reads (a malformed one is a 400 over HTTP), then handed
to one application function while Slack waits; what must call Slack's Web API (a form to
open, a private note, a share) is returned as work for once Slack has its response. Over HTTP
``chatbot/slack_http.py`` calls these straight; over Socket Mode, bolt calls the ``on_*``
listeners (``chatbot/slack_app.py``).
"""

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings
from slack_bolt.async_app import AsyncAck

from application import escalations, feedback
from application.inbox import accepting
from chatbot import slack_blocks, slack_feedback_form, slack_inbox, slack_interactions, tasks
from data import models

logger = logging.getLogger(__name__)

# Fields of a shortcut's message the bot reads as text: Slack sends strings (or leaves them out).
_MESSAGE_FIELDS = ("type", "user", "text", "ts", "thread_ts")


# The slash command that asks privately (as in slack/manifest.yaml).
ASK_COMMAND = "/ask"
_COMMAND_FIELDS = ("command", "text", "user_id", "channel_id", "trigger_id", "response_url")
ASK_USAGE = "Type your question after /ask, e.g. `/ask how do I roll back a deploy?`"
ASK_RECEIVED = "Looking that up… (only you can see this answer until you share it)"


def is_ask_command(form: dict[str, str]) -> bool:
    """Whether a slash command is ``/ask`` with what answering it needs, its ``response_url``
    on Slack's own host (``SLACK_RESPONSE_URL_PREFIX``)."""
    return (
        form.get("command") == ASK_COMMAND
        and all(isinstance(form.get(field), str) for field in _COMMAND_FIELDS)
        and all(form[field] for field in ("user_id", "channel_id", "trigger_id"))
        and len(form["trigger_id"]) <= 80
        and form["response_url"].startswith(settings.SLACK_RESPONSE_URL_PREFIX)
    )


async def accept_ask_command(form: dict[str, str]) -> str:
    """``/ask <question>`` (checked by :func:`is_ask_command`): stored in the inbox like an
    event (keyed by its trigger id), answered privately by the same job. Returns what to tell
    the asker at once."""
    if not form["text"].strip():
        return ASK_USAGE
    await slack_inbox.accept(
        event=accepting.Event(
            event_id=f"command-{form['trigger_id']}",
            team_id=form.get("team_id", ""),
            event_type="slash_command",
            # When it was asked: a command carries no timestamp of its own.
            payload={**form, "received_at": f"{time.time():.6f}"},
        )
    )
    return ASK_RECEIVED


# The message shortcut "Ask about this message" (its callback id, as in slack/manifest.yaml).
ASK_ABOUT_MESSAGE = "ask_about_message"


def is_message_shortcut(payload: dict[str, Any]) -> bool:
    """Whether an interactivity payload is our message shortcut, in the shape Slack sends it:
    who pressed it, where, and the message with its text and ts."""
    user, channel, message = payload.get("user"), payload.get("channel"), payload.get("message")
    return (
        payload.get("type") == "message_action"
        and payload.get("callback_id") == ASK_ABOUT_MESSAGE
        and isinstance(payload.get("trigger_id"), str)
        and 0 < len(payload["trigger_id"]) <= 80
        and isinstance(user, dict)
        and isinstance(user.get("id"), str)
        and isinstance(channel, dict)
        and isinstance(channel.get("id"), str)
        and isinstance(message, dict)
        and isinstance(message.get("ts"), str)
        and all(
            message.get(key) is None or isinstance(message[key], str) for key in _MESSAGE_FIELDS
        )
    )


async def accept_message_shortcut(payload: dict[str, Any]) -> None:
    """ "Ask about this message" (checked by :func:`is_message_shortcut`): stored in the inbox
    like an event, the message's text as the question, answered in that message's thread.
    Each press has its own trigger id, so each press is one question."""
    team = payload.get("team")
    await slack_inbox.accept(
        event=accepting.Event(
            event_id=f"shortcut-{payload['trigger_id']}",
            team_id=str(team.get("id", "")) if isinstance(team, dict) else "",
            event_type="message_action",
            payload=payload,
        )
    )


async def on_shortcut(ack: AsyncAck, body: dict[str, Any]) -> None:
    """A message shortcut that arrives through bolt (Socket Mode)."""
    if is_message_shortcut(body):
        await accept_message_shortcut(body)
    await ack()


def is_block_actions(payload: dict[str, Any]) -> bool:
    """Whether an interactivity payload is button presses in the shape the bot reads: a user
    with an id and a list of actions, each with an ``action_id`` (Slack always sends these;
    a request that does not is malformed)."""
    user, actions = payload.get("user"), payload.get("actions")
    return (
        payload.get("type") == "block_actions"
        and isinstance(user, dict)
        and isinstance(user.get("id"), str)
        and isinstance(actions, list)
        and bool(actions)
        and all(
            isinstance(action, dict) and isinstance(action.get("action_id"), str)
            for action in actions
        )
    )


# Work for once Slack has its response: a form to open, a word to the person who pressed.
type AfterResponse = Callable[[], Awaitable[None]]


def _vote(action: dict[str, Any]) -> tuple[str, int] | None:
    """``(vote, answer id)`` of a 👍/👎 press (the feedback buttons, or the older buttons)."""
    value = str(action.get("value", ""))
    if action["action_id"] == slack_blocks.FEEDBACK:
        return slack_blocks.vote_of(value)
    if action["action_id"] in (slack_blocks.FEEDBACK_UP, slack_blocks.FEEDBACK_DOWN):
        up = action["action_id"] == slack_blocks.FEEDBACK_UP
        return (models.Feedback.Vote.UP if up else models.Feedback.Vote.DOWN), _number(value)
    return None


def _number(value: str) -> int:
    return int(value) if value.isdigit() else 0


async def accept_actions(payload: dict[str, Any]) -> AfterResponse | None:
    """Button presses (``block_actions``, checked by :func:`is_block_actions`): 👍/👎 store a
    vote, and a 👎 asks why (a form, opened once Slack has its response); "Ask a person"
    records the request and queues its post. A button we do not know (e.g. from a future
    version) is acknowledged and dropped.

    Over HTTP called straight from ``chatbot/slack_http.py``; over Socket Mode bolt calls it.
    Returns what to do once Slack has its response, if anything.
    """
    user_id = payload["user"]["id"]
    trigger_id = payload.get("trigger_id")
    after: list[AfterResponse] = []
    for action in payload["actions"]:
        vote = _vote(action)
        if vote is not None:
            stored = await feedback.record_vote(
                answer_id=vote[1], slack_user_id=user_id, vote=vote[0]
            )
            if not stored:
                logger.warning("Feedback for unknown answer %r ignored", action.get("value"))
            elif vote[0] == models.Feedback.Vote.DOWN and isinstance(trigger_id, str):
                after.append(
                    slack_interactions.open_feedback_form(trigger_id=trigger_id, answer_id=vote[1])
                )
        elif action["action_id"] == slack_blocks.SHARE:
            after.append(
                slack_interactions.share_answer(
                    payload=payload, answer_id=_number(str(action.get("value", "")))
                )
            )
        elif action["action_id"] == slack_blocks.ASK_A_PERSON:
            outcome = await escalations.ask_a_person(
                answer_id=_number(str(action.get("value", ""))),
                slack_user_id=user_id,
                enqueue=tasks.queue_escalation,
            )
            after.append(slack_interactions.tell_presser(payload=payload, outcome=outcome))
    if not after:
        return None

    async def run_after() -> None:
        for step in after:
            await step()

    return run_after


async def accept_view_submission(payload: dict[str, Any]) -> None:
    """The 👎 form, sent (checked by ``slack_feedback_form.is_submission``): store the reason
    on the vote. An answer id or reason that is not one of ours is acknowledged and dropped;
    the form closes either way."""
    answer_id = slack_feedback_form.answer_of(payload)
    reason = slack_feedback_form.reason_of(payload)
    if answer_id is None or reason is None:
        logger.warning("A feedback form without a known answer or reason was ignored")
        return
    stored = await feedback.record_reason(
        answer_id=answer_id,
        slack_user_id=payload["user"]["id"],
        reason=reason[0],
        comment=reason[1],
    )
    if not stored:
        logger.warning("Feedback reason for unknown answer %s ignored", answer_id)


async def on_actions(ack: AsyncAck, body: dict[str, Any]) -> None:
    """Button presses that arrive through bolt (Socket Mode)."""
    after = await accept_actions(body) if is_block_actions(body) else None
    await ack()
    if after is not None:
        await after()


async def on_view_submission(ack: AsyncAck, body: dict[str, Any]) -> None:
    """A sent form that arrives through bolt (Socket Mode)."""
    if slack_feedback_form.is_submission(body):
        await accept_view_submission(body)
    await ack()
