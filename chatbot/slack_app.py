"""Which Slack events become questions, what button presses record, and the bolt app.

:func:`accept_event` decides what an Events API envelope asks of the bot, and
:func:`accept_actions` what a press of a button does. Over HTTP they are called straight from
``chatbot/slack_http.py`` (nothing goes through bolt there); over Socket Mode bolt calls them,
with ``process_before_response=True``: a listener finishes before Slack gets its response, and
the response is sent only once the vote or event is safely stored. If the write fails, Slack
gets a 5xx and retries instead of the event being lost.

Nothing here calls Slack's Web API while Slack waits: the bot token comes from settings
(:func:`_authorize`, instead of bolt's ``auth.test`` on the first request, repeated on every
request while Slack's API is unreachable), and the bot's own user id from the envelope.
"""

import functools
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings
from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.authorization import AuthorizeResult

from application import escalations, feedback
from application.inbox import accepting
from chatbot import (
    database_busy,
    slack_blocks,
    slack_client,
    slack_feedback_form,
    slack_inbox,
    slack_interactions,
    tasks,
)
from data import models

logger = logging.getLogger(__name__)


# A person's message with a file (a screenshot in a DM) or a thread reply also sent to the
# channel is still a question; edits, deletions, joins and the like are not.
_QUESTION_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})


# Fields of an event the bot reads as text: Slack sends strings (or leaves them out).
_TEXT_FIELDS = (
    "type",
    "user",
    "text",
    "ts",
    "thread_ts",
    "channel",
    "channel_type",
    "subtype",
    "team",
    "user_team",
    "bot_id",
)


def is_well_formed(body: dict[str, Any]) -> bool:
    """Whether an ``event_callback`` envelope has the shape the bot reads: an event id (as
    the inbox's column holds it) and an event whose text fields are text."""
    event, event_id = body.get("event"), body.get("event_id")
    return (
        isinstance(event_id, str)
        and 0 < len(event_id) <= 100
        and isinstance(event, dict)
        and all(event.get(field) is None or isinstance(event[field], str) for field in _TEXT_FIELDS)
        and isinstance(event.get("assistant_thread", {}), dict)
    )


def _from_a_person(event: dict[str, Any]) -> bool:
    """Bot posts (ours included) and housekeeping subtypes are not questions."""
    return (
        bool(event.get("user"))
        and event.get("subtype") in _QUESTION_SUBTYPES
        and not (event.get("bot_id") or event.get("bot_profile"))
    )


def bot_user_id(body: dict[str, Any]) -> str:
    """The bot's own user id, from the envelope: Slack names the installation an event is
    delivered for in ``authorizations`` (at most one), so no ``auth.test`` call is needed."""
    authorizations = body.get("authorizations")
    if isinstance(authorizations, list) and authorizations:
        first = authorizations[0]
        if isinstance(first, dict) and first.get("is_bot", True):
            return str(first.get("user_id") or "")
    return ""


def _thread_reply(event: dict[str, Any], body: dict[str, Any]) -> accepting.ThreadReply | None:
    """A reply in someone's thread that does not mention the bot (a mention arrives as
    ``app_mention`` too, and that copy is the question)."""
    thread_ts = event.get("thread_ts")
    if not thread_ts or thread_ts == event.get("ts"):
        return None
    own_id = bot_user_id(body)
    if own_id and f"<@{own_id}>" in str(event.get("text", "")):
        return None
    return accepting.ThreadReply(
        channel_id=str(event.get("channel", "")), thread_ts=str(thread_ts), asker_id=event["user"]
    )


async def accept_event(body: dict[str, Any]) -> None:
    """An Events API envelope (``event_callback``): store it when it asks the bot something.

    Mentions, direct messages (the assistant pane's threads live in the app's DM), an opened
    assistant pane (greeted once, through the inbox) and follow-ups in a thread where the bot
    answered the asker are stored; everything else is acknowledged and dropped. Pure checks on
    the payload, then at most one write, shared with the events arriving at the same moment
    (``chatbot/slack_inbox.py``): this runs while Slack waits.
    """
    event = body.get("event")
    if not isinstance(event, dict) or not body.get("event_id"):
        return
    kind = event.get("type")
    follow_up_of = None
    if kind == "app_mention":
        if not _from_a_person(event):
            return
    elif kind == "message":
        if not _from_a_person(event):
            return
        if event.get("channel_type") != "im":
            follow_up_of = _thread_reply(event, body)
            if follow_up_of is None:
                return
    elif kind == "app_home_opened":
        if event.get("tab") != "home" or not event.get("user"):
            return  # the Messages tab, or a malformed event: nothing to show
    elif kind not in ("assistant_thread_started", "assistant_thread_context_changed"):
        return  # subscribed events we do not act on
    outcome = await slack_inbox.accept(
        event=accepting.Event(
            event_id=str(body["event_id"]),
            team_id=str(body.get("team_id", "")),
            event_type=str(kind),
            payload=body,
            follow_up_of=follow_up_of,
        )
    )
    if outcome is accepting.Outcome.REPEATED:
        logger.info("Dropped a repeated delivery of event %s", body["event_id"])


async def on_event(ack: AsyncAck, body: dict[str, Any]) -> None:
    """Events that arrive through bolt (Socket Mode); over HTTP they never reach bolt."""
    await accept_event(body)
    await ack()


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
        and all(message.get(key) is None or isinstance(message[key], str) for key in _TEXT_FIELDS)
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


class SlackNotConfigured(Exception):
    """SLACK_SIGNING_SECRET or SLACK_BOT_TOKEN is missing."""


async def _authorize(
    enterprise_id: str | None, team_id: str | None, user_id: str | None
) -> AuthorizeResult:
    """The one installation's bot token, from settings: bolt's default for a token calls
    ``auth.test`` on the first request (and on every one while Slack cannot be reached)."""
    return AuthorizeResult(
        enterprise_id=enterprise_id,
        team_id=team_id,
        user_id=user_id,
        bot_token=settings.SLACK_BOT_TOKEN,
    )


async def _on_error(error: Exception) -> BoltResponse | None:
    """A listener failed: bolt answers 500; a busy database pool is a 503 Slack retries."""
    if database_busy.is_pool_timeout(error):
        return BoltResponse(
            status=503, body="", headers={"Retry-After": database_busy.RETRY_AFTER_SECONDS}
        )
    logger.error("Slack listener failed", exc_info=error)
    return None


@functools.cache
def _build(signing_secret: str, token: str, api_url: str) -> AsyncApp:
    app = AsyncApp(
        signing_secret=signing_secret,
        # No token on the app's client: with one, bolt would authorize each request with an
        # auth.test call. The token comes from _authorize.
        client=slack_client.web_client(with_token=False),
        authorize=_authorize,
        process_before_response=True,
        # Only Socket Mode builds the app without a secret, and its envelopes are not signed.
        request_verification_enabled=bool(signing_secret),
        logger=logging.getLogger("chatbot.slack_bolt"),
    )
    app.error(_on_error)
    app.action(re.compile(".*"))(on_actions)
    app.view(slack_feedback_form.CALLBACK_ID)(on_view_submission)
    app.message_shortcut(ASK_ABOUT_MESSAGE)(on_shortcut)
    app.event(re.compile(".*"))(on_event)
    return app


def configuration_problem(*, socket_mode: bool = False) -> str | None:
    """What is missing for Slack to work, or None.

    Socket Mode needs no signing secret: Slack's envelopes arrive over a WebSocket the server
    opened itself with the app-level token, not as signed HTTP requests.
    """
    if not settings.SLACK_SIGNING_SECRET and not socket_mode:
        return (
            "Slack is not configured: set SLACK_SIGNING_SECRET (and SLACK_BOT_TOKEN) "
            "from the app's Basic Information and OAuth pages."
        )
    if not settings.SLACK_BOT_TOKEN:
        return "Slack is not configured: set SLACK_BOT_TOKEN (xoxb-...)."
    return None


def get_app(*, socket_mode: bool = False) -> AsyncApp:
    """The bolt app for the current settings (rebuilt when they change, e.g. in tests)."""
    problem = configuration_problem(socket_mode=socket_mode)
    if problem:
        raise SlackNotConfigured(problem)
    return _build(settings.SLACK_SIGNING_SECRET, settings.SLACK_BOT_TOKEN, settings.SLACK_API_URL)
