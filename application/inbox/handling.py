"""What a stored Slack event starts: the greeting for a new assistant thread, the App Home
someone opened, or an answer.

The job that runs this is the interface: it names the stored event, reads Slack's payload into
a request (``interpret``) and says how to reach a conversation (``make_messenger``). Which use
case a request starts is decided here.
"""

import dataclasses
from collections.abc import Awaitable, Callable

from application import escalations, home
from application.answering import messenger as messenger_module
from application.answering import passages, pipeline
from application.inbox import greeting
from domain.questions import slack_events


@dataclasses.dataclass(frozen=True, kw_only=True)
class NewAssistantThread:
    """Someone opened the bot in Slack's assistant pane."""

    conversation: messenger_module.Conversation


@dataclasses.dataclass(frozen=True, kw_only=True)
class HomeOpened:
    """Someone opened the bot's App Home tab."""

    user_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class ContextChanged:
    """The person moved to another channel beside the assistant pane: stored, and read when
    they next ask in that thread (``live.asker_context``); nothing to do now."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class PersonReplied:
    """Someone other than the asker replied in a thread waiting for a person."""

    channel_id: str
    thread_ts: str
    replier_id: str
    text: str


type Request = pipeline.Incoming | NewAssistantThread | HomeOpened | ContextChanged | PersonReplied
type PublishHome = Callable[[str, home.Home], Awaitable[None]]


async def handle(
    *,
    slack_event_id: int,
    interpret: Callable[[slack_events.StoredEvent], Request],
    make_messenger: Callable[[messenger_module.Conversation], messenger_module.Messenger],
    publish_home: PublishHome,
) -> None:
    """Greet the new thread, show the App Home, or answer the question, of the stored event
    ``slack_event_id``."""
    stored = await slack_events.get(id=slack_event_id)
    request = interpret(stored)
    if isinstance(request, HomeOpened):
        await home.show(user_id=request.user_id, publish=publish_home)
        return
    if isinstance(request, ContextChanged):
        return
    if isinstance(request, PersonReplied):
        await escalations.capture_reply(
            channel_id=request.channel_id,
            thread_ts=request.thread_ts,
            replier_id=request.replier_id,
            text=request.text,
        )
        return
    messenger = make_messenger(request.conversation)
    if isinstance(request, NewAssistantThread):
        await greeting.greet(stored=stored, messenger=messenger)
        return
    await pipeline.answer(incoming=request, messenger=messenger, search=passages.search)


async def give_up(
    *,
    slack_event_id: int,
    interpret: Callable[[slack_events.StoredEvent], Request],
    make_messenger: Callable[[messenger_module.Conversation], messenger_module.Messenger],
    error: str,
) -> None:
    """The event's job failed its last attempt: record that, and tell the asker honestly."""
    stored = await slack_events.get(id=slack_event_id)
    request = interpret(stored)
    if isinstance(request, NewAssistantThread | HomeOpened | ContextChanged | PersonReplied):
        return  # only a greeting or a view was lost
    await pipeline.give_up(
        incoming=request, messenger=make_messenger(request.conversation), error=error
    )
