"""Slack's event envelopes, read into the terms of the answer use case."""

import datetime as dt
import re
from typing import Any

from application.answering import messenger as messenger_module
from application.answering import pipeline
from application.inbox import accepting, handling
from data import models
from domain.questions import slack_events

_MENTION = re.compile(r"<@[A-Z0-9]+>")


def assistant_thread_conversation(*, payload: dict[str, Any]) -> messenger_module.Conversation:
    """The new assistant-pane thread an ``assistant_thread_started`` envelope announces."""
    thread = payload["event"].get("assistant_thread", {})
    return messenger_module.Conversation(
        team_id=str(thread.get("context", {}).get("team_id") or payload.get("team_id", "")),
        channel_id=str(thread.get("channel_id", "")),
        thread_ts=str(thread.get("thread_ts", "")),
        asker_id=str(thread.get("user_id", "")),
    )


def incoming_from_payload(*, payload: dict[str, Any], slack_event_id: int) -> pipeline.Incoming:
    """The question in a stored event envelope, in the terms of the answer use case."""
    event = payload["event"]
    ts = str(event.get("ts", ""))
    return pipeline.Incoming(
        external=is_external(payload=payload),
        text=_MENTION.sub("", event.get("text", "")).strip() or event.get("text", ""),
        via=models.Question.Channel.SLACK,
        asked_at=dt.datetime.fromtimestamp(float(ts or payload.get("event_time", 0)), tz=dt.UTC),
        slack_event_id=slack_event_id,
        conversation=messenger_module.Conversation(
            team_id=str(event.get("team") or payload.get("team_id", "")),
            channel_id=str(event.get("channel", "")),
            thread_ts=str(event.get("thread_ts") or ts),
            message_ts=ts,
            asker_id=str(event.get("user", "")),
        ),
    )


def incoming_from_shortcut(*, payload: dict[str, Any], slack_event_id: int) -> pipeline.Incoming:
    """ "Ask about this message": the message's text is the question, asked by whoever
    pressed the shortcut, and answered in the message's thread."""
    message = payload["message"]
    ts = str(message["ts"])
    text = _MENTION.sub("", str(message.get("text") or "")).strip()
    action_ts = payload.get("action_ts")
    asked = float(action_ts) if isinstance(action_ts, str) and _is_number(action_ts) else None
    team = payload.get("team")
    return pipeline.Incoming(
        text=text or "(a message without text)",
        via=models.Question.Channel.SLACK,
        asked_at=dt.datetime.fromtimestamp(asked or float(ts), tz=dt.UTC),
        slack_event_id=slack_event_id,
        conversation=messenger_module.Conversation(
            team_id=str(team.get("id", "")) if isinstance(team, dict) else "",
            channel_id=str(payload["channel"]["id"]),
            thread_ts=str(message.get("thread_ts") or ts),
            message_ts=ts,
            asker_id=str(payload["user"]["id"]),
        ),
    )


def incoming_from_command(*, payload: dict[str, Any], slack_event_id: int) -> pipeline.Incoming:
    """``/ask <question>``: answered only to the asker, through the command's response_url."""
    received = str(payload.get("received_at", ""))
    return pipeline.Incoming(
        text=_MENTION.sub("", str(payload.get("text", ""))).strip(),
        via=models.Question.Channel.SLACK,
        asked_at=dt.datetime.fromtimestamp(
            float(received) if _is_number(received) else 0, tz=dt.UTC
        ),
        slack_event_id=slack_event_id,
        conversation=messenger_module.Conversation(
            team_id=str(payload.get("team_id", "")),
            channel_id=str(payload.get("channel_id", "")),
            asker_id=str(payload.get("user_id", "")),
            private=True,
            response_url=str(payload.get("response_url", "")),
        ),
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def is_external(*, payload: dict[str, Any]) -> bool:
    """Whether the asker belongs to another organisation: in a Slack Connect channel
    (``is_ext_shared_channel``), a person whose team (``user_team``, else ``team``) is not the
    one the app is installed in. Unknown counts as external: the answers quote internal
    documents."""
    if payload.get("is_ext_shared_channel") is not True:
        return False
    event = payload["event"]
    their_team = event.get("user_team") or event.get("team")
    authorizations = payload.get("authorizations")
    home = payload.get("team_id")
    if isinstance(authorizations, list) and authorizations and isinstance(authorizations[0], dict):
        home = authorizations[0].get("team_id") or home
    return not their_team or their_team != home


def interpret(stored: slack_events.StoredEvent) -> handling.Request:
    """What a stored event asks for: a new assistant thread, or a question."""
    if stored.event_type == "assistant_thread_started":
        return handling.NewAssistantThread(
            conversation=assistant_thread_conversation(payload=stored.payload)
        )
    if stored.event_type == accepting.PERSON_REPLY:
        event = stored.payload["event"]
        return handling.PersonReplied(
            channel_id=str(event.get("channel", "")),
            thread_ts=str(event.get("thread_ts", "")),
            replier_id=str(event.get("user", "")),
            text=str(event.get("text", "")),
        )
    if stored.event_type == "assistant_thread_context_changed":
        return handling.ContextChanged()
    if stored.event_type == "app_home_opened":
        return handling.HomeOpened(user_id=str(stored.payload["event"].get("user", "")))
    if stored.event_type == "slash_command":
        return incoming_from_command(payload=stored.payload, slack_event_id=stored.id)
    if stored.event_type == "message_action":
        return incoming_from_shortcut(payload=stored.payload, slack_event_id=stored.id)
    return incoming_from_payload(payload=stored.payload, slack_event_id=stored.id)
