"""Which Slack events become questions, and the bolt app.

:func:`accept_event` decides what an Events API envelope asks of the bot (button presses,
forms, the shortcut and ``/ask`` are ``chatbot/slack_actions.py``). Over HTTP it is called
straight from ``chatbot/slack_http.py`` (nothing goes through bolt there); over Socket Mode
bolt calls the same functions,
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
from typing import Any

from django.conf import settings
from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.authorization import AuthorizeResult

from application.inbox import accepting
from chatbot import database_busy, slack_actions, slack_client, slack_feedback_form, slack_inbox

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
    app.action(re.compile(".*"))(slack_actions.on_actions)
    app.view(slack_feedback_form.CALLBACK_ID)(slack_actions.on_view_submission)
    app.message_shortcut(slack_actions.ASK_ABOUT_MESSAGE)(slack_actions.on_shortcut)
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
