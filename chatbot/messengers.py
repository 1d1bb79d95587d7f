"""The Slack messenger: where the answer use case's output goes in Slack (the terminal's is
``chatbot/local_messengers.py``).

Slack: the status appears at once (``assistant.threads.setStatus``, or an :eyes: reaction where
that is refused); the answer is streamed into the thread with ``chat.startStream`` /
``appendStream`` / ``stopStream`` and finishes with a Sources block and 👍/👎 buttons. Where
streaming is refused (older workspaces, some channel types), the finished answer is posted as
Block Kit messages instead, split to fit Slack's limits.

Everything posted to Slack passes through ``domain.text.slack_mentions`` here, the one place answers
are rendered for Slack: a document or a model cannot make the bot ping a channel or a person.
"""

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks import MarkdownBlock
from slack_sdk.web.async_chat_stream import AsyncChatStream
from slack_sdk.web.async_client import AsyncWebClient

from application import metrics
from application.answering import messenger
from chatbot import slack_blocks, slack_names, slack_progress
from domain.text import message_splitting, slack_mentions

logger = logging.getLogger(__name__)

MARKDOWN_BLOCK_LIMIT = 11_000  # Slack allows 12,000 characters of markdown blocks per message
STREAM_LIMIT = 11_000
STREAM_PIECE = 400
_SLACK_FAILURES = (SlackApiError, SlackClientError, aiohttp.ClientError, TimeoutError)


class SlackMessenger:
    def __init__(self, *, client: AsyncWebClient, conversation: messenger.Conversation) -> None:
        self._client = client
        self._conversation = conversation
        self._reacted = False
        # The message the answer streams into while the model writes it (show_partial).
        self._live: AsyncChatStream | None = None
        self._live_sent = ""
        self._live_diverged = False  # text no longer extends what was sent: finish by update
        self._live_refused = False
        self._status_shown = False

    async def show_partial(
        self,
        *,
        text: str,
        on_posted: Callable[[str], Awaitable[None]],
        found: Sequence[messenger.Source] = (),
    ) -> None:
        text = slack_mentions.neutralise_partial(text=text)
        if self._live_refused or len(text) > STREAM_LIMIT or not text:
            return
        if self._live is None:
            stream = await self._open_stream()
            try:
                await stream.append(chunks=slack_progress.opening(found=found, text=text))
            except SlackApiError as error:
                logger.info("Streaming refused (%s)", error.response.get("error"))
                self._live_refused = True
                return
            self._live, self._live_sent = stream, text
            assert stream.ts is not None
            await on_posted(stream.ts)
            return
        if self._live_diverged or not text.startswith(self._live_sent):
            self._live_diverged = True  # e.g. a retried model run writes a different answer
            return
        if delta := text[len(self._live_sent) :]:
            try:
                await self._live.append(markdown_text=delta)
            except _SLACK_FAILURES as error:
                logger.warning("Could not append to the live answer: %s", _describe(error))
                self._live_diverged = True
                return
            self._live_sent = text

    async def show_status(self, *, text: str, loading_messages: Sequence[str] = ()) -> None:
        conversation = self._conversation
        if not self._status_shown:
            self._status_shown = True
            _observe_since_message(metrics.STATUS_SECONDS, conversation)
        try:
            await self._client.assistant_threads_setStatus(
                channel_id=conversation.channel_id,
                thread_ts=conversation.thread_ts,
                status=text,
                loading_messages=list(loading_messages) or None,
            )
            return
        except SlackApiError as error:
            logger.info("setStatus refused (%s); reacting instead", error.response.get("error"))
        await self._client.reactions_add(
            channel=conversation.channel_id, timestamp=conversation.message_ts, name="eyes"
        )
        self._reacted = True

    def _in_assistant_thread(self) -> bool:
        """The assistant pane's threads live in the app's DM, each question in a thread."""
        conversation = self._conversation
        return conversation.channel_id.startswith("D") and conversation.thread_ts not in (
            "",
            conversation.message_ts,
        )

    async def name_thread(self, *, title: str) -> None:
        if not self._in_assistant_thread():
            return
        try:
            await self._client.assistant_threads_setTitle(
                channel_id=self._conversation.channel_id,
                thread_ts=self._conversation.thread_ts,
                title=slack_mentions.neutralise(text=title),
            )
        except _SLACK_FAILURES as error:
            logger.info("Could not name the thread: %s", _describe(error))

    async def suggest(self, *, prompts: Sequence[messenger.Prompt]) -> None:
        try:
            await self._client.assistant_threads_setSuggestedPrompts(
                channel_id=self._conversation.channel_id,
                thread_ts=self._conversation.thread_ts,
                title="Try asking",
                prompts=[{"title": prompt.title, "message": prompt.message} for prompt in prompts],
            )
        except _SLACK_FAILURES as error:
            logger.info("Could not suggest prompts: %s", _describe(error))

    async def channel_name(self, *, channel_id: str) -> str:
        return await slack_names.channel(client=self._client, channel_id=channel_id)

    async def names(self) -> messenger.Names:
        asker, channel = await asyncio.gather(
            slack_names.person(client=self._client, user_id=self._conversation.asker_id),
            slack_names.channel(client=self._client, channel_id=self._conversation.channel_id),
        )
        return messenger.Names(asker=asker, channel=channel)

    async def deliver(
        self,
        *,
        answer: messenger.OutgoingAnswer,
        existing_ref: str,
        on_posted: Callable[[str], Awaitable[None]],
        continuation_refs: Sequence[str] = (),
    ) -> str:
        answer = dataclasses.replace(answer, text=slack_mentions.neutralise(text=answer.text))
        try:
            ref = await self._deliver(answer, existing_ref, on_posted, continuation_refs)
            _observe_since_message(metrics.ANSWER_SECONDS, self._conversation)
            return ref
        except _SLACK_FAILURES as error:
            raise messenger.DeliveryFailed(_describe(error)) from error
        finally:
            await self._clear_reaction()

    async def _deliver(
        self,
        answer: messenger.OutgoingAnswer,
        existing_ref: str,
        on_posted: Callable[[str], Awaitable[None]],
        continuation_refs: Sequence[str],
    ) -> str:
        if self._live is not None:
            # This messenger already shows this answer live: finish that message.
            return await self._finish_live(answer, on_posted)
        if existing_ref:
            return await self._replace([existing_ref, *continuation_refs], answer, on_posted)
        if len(answer.text) <= STREAM_LIMIT:
            ts = await self._stream(answer, on_posted)
            if ts is not None:
                return ts
        return await self._send_pieces([], answer, on_posted)

    async def find_posted(self, *, question_id: int, answer_id: int) -> list[str]:
        """The thread's replies with their metadata (``conversations.replies``, every page)."""
        conversation = self._conversation
        if not conversation.thread_ts:
            return []
        messages: list[dict[str, Any]] = []
        cursor = None
        try:
            while True:
                response = await self._client.conversations_replies(
                    channel=conversation.channel_id,
                    ts=conversation.thread_ts,
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
                messages += response.get("messages") or []
                cursor = (response.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        except _SLACK_FAILURES as error:
            raise messenger.DeliveryFailed(_describe(error)) from error
        return slack_blocks.parts_of(messages, answer_id=answer_id)

    async def apologise(self, *, text: str, existing_ref: str = "") -> None:
        text = slack_mentions.neutralise(text=text)
        ts = existing_ref
        if self._live is not None:
            ts, self._live = self._live.ts or existing_ref, None
        try:
            if ts:
                # A half-written answer must not stay up looking like the answer.
                await self._stop_stream(ts)
                await self._client.chat_update(
                    channel=self._conversation.channel_id, ts=ts, text=text, blocks=[]
                )
            else:
                await self._client.chat_postMessage(
                    channel=self._conversation.channel_id,
                    thread_ts=self._conversation.thread_ts,
                    text=text,
                )
        except _SLACK_FAILURES as error:
            raise messenger.DeliveryFailed(_describe(error)) from error
        finally:
            await self._clear_reaction()

    async def say(self, *, text: str) -> None:
        text = slack_mentions.neutralise(text=text)
        try:
            await self._client.chat_postMessage(
                channel=self._conversation.channel_id,
                thread_ts=self._conversation.thread_ts or None,
                text=text,
            )
        except _SLACK_FAILURES as error:
            raise messenger.DeliveryFailed(_describe(error)) from error

    async def _open_stream(self) -> AsyncChatStream:
        conversation = self._conversation
        return await self._client.chat_stream(
            channel=conversation.channel_id,
            thread_ts=conversation.thread_ts,
            recipient_team_id=conversation.team_id or None,
            recipient_user_id=conversation.asker_id or None,
            task_display_mode=slack_progress.DISPLAY_MODE,
            buffer_size=1,
        )

    async def _finish_live(
        self, answer: messenger.OutgoingAnswer, on_posted: Callable[[str], Awaitable[None]]
    ) -> str:
        """Append what the model wrote since the last update, then the sources and buttons."""
        stream, self._live = self._live, None
        assert stream is not None
        assert stream.ts is not None
        fits = len(answer.text) <= STREAM_LIMIT
        if fits and not self._live_diverged and answer.text.startswith(self._live_sent):
            rest = answer.text[len(self._live_sent) :]
            try:
                for start in range(0, len(rest), STREAM_PIECE):
                    await stream.append(markdown_text=rest[start : start + STREAM_PIECE])
                await stream.stop(
                    chunks=slack_progress.closing(cited=answer.sources),
                    blocks=slack_blocks.under_the_answer(
                        answer, channel_id=self._conversation.channel_id
                    ),
                    metadata=slack_blocks.metadata(answer),
                )
                return stream.ts
            except SlackApiError as error:
                logger.warning("Live answer broke off (%s); updating", error.response["error"])
        if not fits:
            # Continuation messages follow; the first must be on record before them.
            await self._report(stream.ts, on_posted)
        return await self._replace([stream.ts], answer, on_posted)

    async def _stream(
        self, answer: messenger.OutgoingAnswer, on_posted: Callable[[str], Awaitable[None]]
    ) -> str | None:
        """Stream the answer; ``None`` when Slack refuses streaming before anything was posted."""
        stream = await self._open_stream()
        pieces = [
            answer.text[start : start + STREAM_PIECE]
            for start in range(0, len(answer.text), STREAM_PIECE)
        ]
        try:
            await stream.append(chunks=slack_progress.opening(found=answer.sources, text=pieces[0]))
        except SlackApiError as error:
            logger.info("Streaming refused (%s); posting instead", error.response.get("error"))
            return None
        ts = stream.ts
        assert ts is not None
        await self._report(ts, on_posted)
        try:
            for piece in pieces[1:]:
                await stream.append(markdown_text=piece)
            await stream.stop(
                chunks=slack_progress.closing(cited=answer.sources),
                blocks=slack_blocks.under_the_answer(
                    answer, channel_id=self._conversation.channel_id
                ),
                metadata=slack_blocks.metadata(answer),
            )
        except SlackApiError as error:
            # The stream expired or broke half-way: put the whole answer into that message.
            logger.warning("Streaming failed after start (%s); updating", error.response["error"])
            await self._replace([ts], answer, on_posted)
        return ts

    async def _send_pieces(
        self,
        refs: Sequence[str],
        answer: messenger.OutgoingAnswer,
        on_posted: Callable[[str], Awaitable[None]],
    ) -> str:
        """The answer as Block Kit messages split to fit Slack's limits, sources and buttons
        under the last. ``refs`` are messages an earlier try already posted: they are updated,
        in order, so a retry never posts a piece twice; only the rest are posted."""
        pieces = message_splitting.split(text=answer.text, limit=MARKDOWN_BLOCK_LIMIT)
        pieces = pieces or [answer.text]
        sent: list[str] = []
        for index, piece in enumerate(pieces):
            blocks: list[dict[str, Any]] = [MarkdownBlock(text=piece).to_dict()]
            if index == len(pieces) - 1:
                blocks += slack_blocks.under_the_answer(
                    answer, channel_id=self._conversation.channel_id
                )
            metadata = slack_blocks.metadata(answer, part=index)
            if index < len(refs):
                await self._client.chat_update(
                    channel=self._conversation.channel_id,
                    ts=refs[index],
                    text=piece,
                    blocks=blocks,
                    metadata=metadata,
                )
                sent.append(refs[index])
                continue
            response = await self._client.chat_postMessage(
                channel=self._conversation.channel_id,
                thread_ts=self._conversation.thread_ts,
                text=piece,
                blocks=blocks,
                metadata=metadata,
            )
            sent.append(str(response["ts"]))
            await self._report(sent[-1], on_posted)
        return sent[0]

    async def _replace(
        self,
        refs: Sequence[str],
        answer: messenger.OutgoingAnswer,
        on_posted: Callable[[str], Awaitable[None]],
    ) -> str:
        """Complete the messages an interrupted run left behind, in place."""
        await self._stop_stream(refs[0])
        return await self._send_pieces(refs, answer, on_posted)

    async def _stop_stream(self, ts: str) -> None:
        """Stop a message that may still be streaming (its job died, or it broke off half-way)
        before updating it, or Slack keeps showing it as being written. Slack refuses to stop a
        message that is not streaming, which is fine."""
        with contextlib.suppress(*_SLACK_FAILURES):
            await self._client.chat_stopStream(channel=self._conversation.channel_id, ts=ts)

    async def _report(self, ts: str, on_posted: Callable[[str], Awaitable[None]]) -> None:
        """Tell the caller a message exists; if recording it fails, deliver the answer anyway.

        Stopping there would leave the asker a fragment (or an open stream) and make the retry
        post a second message; carrying on completes this message, and the caller records the
        ts that :meth:`deliver` returns along with the delivery.
        """
        try:
            await on_posted(ts)
        except Exception:
            logger.exception("Could not record Slack message %s; delivering it anyway", ts)

    async def _clear_reaction(self) -> None:
        if not self._reacted:
            return
        self._reacted = False
        try:
            await self._client.reactions_remove(
                channel=self._conversation.channel_id,
                timestamp=self._conversation.message_ts,
                name="eyes",
            )
        except _SLACK_FAILURES as error:
            logger.info("Could not remove the :eyes: reaction: %s", _describe(error))


def _describe(error: BaseException) -> str:
    if isinstance(error, SlackApiError):
        data = error.response.data
        code = data.get("error") if isinstance(data, dict) else f"HTTP {error.response.status_code}"
        return f"Slack API error: {code}"
    return f"{type(error).__name__}: {error}"


def _observe_since_message(histogram: Any, conversation: messenger.Conversation) -> None:
    """Seconds since the asker's message (its Slack ts is its time), into ``histogram``."""
    try:
        sent = float(conversation.message_ts)
    except ValueError:
        return
    if sent > 0:
        histogram.observe(max(0.0, time.time() - sent))
