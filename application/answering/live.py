"""The answer people see while the model writes it: the status, then the growing message."""

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from django.utils import timezone

from application import writes
from application.answering import agent as answer_agent
from application.answering import generation, storing
from application.answering import messenger as messenger_module
from domain.questions import records, slack_events

logger = logging.getLogger(__name__)

STATUS_TEXT = "Finding a response…"
# What the work is, in order, rotated by Slack while the bot works.
LOADING_MESSAGES = (
    "Searching the documentation…",
    "Reading the closest sections…",
    "Writing an answer…",
)
TITLE_LIMIT = 80


async def show_status(messenger: messenger_module.Messenger) -> dt.datetime | None:
    """Show that the bot is on it; when it was shown (None if Slack refused it)."""
    try:
        await messenger.show_status(text=STATUS_TEXT, loading_messages=LOADING_MESSAGES)
    except Exception:
        logger.exception("Could not show the status")
        return None
    return timezone.now()


def thread_title(question: str) -> str:
    """The question's first line, cut at a word to fit a thread's title."""
    line = " ".join(question.strip().splitlines()[0].split()) if question.strip() else ""
    if len(line) <= TITLE_LIMIT:
        return line
    return line[: TITLE_LIMIT - 1].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"


async def record_names(
    messenger: messenger_module.Messenger, *, question_id: Callable[[], Awaitable[int]]
) -> None:
    """Store who asked and where, by name, beside the ids (for the admin)."""
    try:
        names = await messenger.names()
        if names.asker or names.channel:
            await writes.write(
                records.set_names,
                question_id=await question_id(),
                asker_name=names.asker[:200],
                channel_name=names.channel[:200],
            )
    except Exception:
        logger.exception("Could not record the names")


async def asker_context(
    messenger: messenger_module.Messenger, *, conversation: messenger_module.Conversation
) -> str:
    """Where the asker is, in words for the model: the channel they were viewing when they
    opened (or last moved) the assistant pane's thread; "" when unknown."""
    viewed = await slack_events.assistant_context(
        channel_id=conversation.channel_id, thread_ts=conversation.thread_ts
    )
    if not viewed:
        return ""
    try:
        name = await messenger.channel_name(channel_id=viewed)
    except Exception:
        logger.exception("Could not name the channel the asker is viewing")
        name = ""
    return (
        f"The asker is viewing the Slack channel {name or viewed} beside this conversation; "
        "it may say what their question is about."
    )


async def name_thread(messenger: messenger_module.Messenger, *, question: str) -> None:
    title = thread_title(question)
    if not title:
        return
    try:
        await messenger.name_thread(title=title)
    except Exception:
        logger.exception("Could not name the thread")


class Live:
    """The answer shown while the model writes it, and the row that remembers its message.

    The model's event stream only hands text over (:meth:`offer`, which never waits);
    :meth:`send_updates`, a task beside the model, shows the newest text, skipping any that a
    newer one replaced while Slack was busy. A slow or rate-limited Slack (a 429 waits for
    ``Retry-After``) therefore never counts against the model's timeout.
    """

    def __init__(
        self,
        *,
        messenger: messenger_module.Messenger,
        question_id: Callable[[], Awaitable[int]],
        slack_channel_id: str,
        answer_id: int | None = None,
        ts: str = "",
    ) -> None:
        self._messenger = messenger
        self._question_id = question_id
        self._channel_id = slack_channel_id
        self.answer_id = answer_id
        self.ts = ts
        self._latest = ""
        self._found: list[messenger_module.Source] = []
        self._changed = asyncio.Event()
        self._closed = False

    def offer(self, text: str, found: list[messenger_module.Source]) -> None:
        """The answer as far as written, and the sections found that it is written from."""
        self._latest, self._found = text, found
        self._changed.set()

    def close(self) -> None:
        """The model is done: :meth:`send_updates` ends after the update in flight, if any.

        Text not yet shown is dropped (the final delivery has all of it); the update in flight
        is waited for, not cancelled, so the messenger knows what Slack shows and nothing lands
        after the final message.
        """
        self._closed = True
        self._changed.set()

    async def send_updates(self) -> None:
        shown = ""
        while True:
            await self._changed.wait()
            self._changed.clear()
            if self._closed:
                return
            if self._latest != shown:
                shown = self._latest
                await self._show(shown)

    async def _show(self, text: str) -> None:
        try:
            await self._messenger.show_partial(text=text, found=self._found, on_posted=self._posted)
        except Exception:
            # Only the live view is lost; the finished answer is still delivered.
            logger.exception("Could not show the partial answer")

    async def _posted(self, ts: str) -> None:
        question_id = await self._question_id()
        self.answer_id = await writes.write(
            storing.start_live_answer,
            question_id=question_id,
            slack_channel_id=self._channel_id,
            ts=ts,
            now=timezone.now(),
        )
        self.ts = ts


async def generate_shown(
    *,
    live: Live,
    show: bool,
    question: str,
    history: list[records.Turn],
    search: answer_agent.Search,
    context: str = "",
) -> generation.Generated:
    """Generate (relaying the answer to ``live`` while it is written, if ``show``), then let
    ``live`` stop sending updates, before anything is delivered."""
    try:
        return await generation.generate(
            question=question,
            history=history,
            search=search,
            on_partial=live.offer if show else None,
            context=context,
        )
    finally:
        live.close()
