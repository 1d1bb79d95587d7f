"""``/ask``: the answer only the asker sees, through the command's ``response_url``.

A ``response_url`` reaches the asker wherever they typed the command, the bot a member of
that channel or not, for 30 minutes and five messages. Nothing is streamed (an ephemeral
message cannot be), and nothing can be found again: an ephemeral message is the asker's
alone, so a re-run after a lost write may send it twice, to that one person.
"""

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence

import aiohttp
from slack_sdk.models.blocks import MarkdownBlock
from slack_sdk.webhook.async_client import AsyncWebhookClient

from application.answering import messenger
from chatbot import local_messengers, slack_blocks, slack_client, slack_names
from domain.text import message_splitting, slack_mentions

logger = logging.getLogger(__name__)

MARKDOWN_BLOCK_LIMIT = 11_000


class PrivateMessenger(local_messengers.SilentMessenger):
    """Nothing streams or shows a status (the command's own response says the bot is on it)."""

    def __init__(self, *, response_url: str, conversation: messenger.Conversation) -> None:
        self._response_url = response_url
        self._conversation = conversation

    async def channel_name(self, *, channel_id: str) -> str:
        client = slack_client.web_client(shared_session=True)
        return await slack_names.channel(client=client, channel_id=channel_id)

    async def names(self) -> messenger.Names:
        client = slack_client.web_client(shared_session=True)
        return messenger.Names(
            asker=await slack_names.person(client=client, user_id=self._conversation.asker_id),
            channel=await slack_names.channel(
                client=client, channel_id=self._conversation.channel_id
            ),
        )

    async def deliver(
        self,
        *,
        answer: messenger.OutgoingAnswer,
        existing_ref: str,
        on_posted: Callable[[str], Awaitable[None]],
        continuation_refs: Sequence[str] = (),
    ) -> str:
        answer = dataclasses.replace(answer, text=slack_mentions.neutralise(text=answer.text))
        pieces = message_splitting.split(text=answer.text, limit=MARKDOWN_BLOCK_LIMIT)
        pieces = pieces or [answer.text]
        for index, piece in enumerate(pieces):
            blocks = [MarkdownBlock(text=piece).to_dict()]
            if index == len(pieces) - 1:
                blocks += slack_blocks.under_the_answer(
                    answer, channel_id=self._conversation.channel_id, private=True
                )
            await self._send(text=piece[:3000], blocks=blocks)
        return ""  # an ephemeral message has no ts to keep

    async def apologise(self, *, text: str, existing_ref: str = "") -> None:
        await self._send(text=slack_mentions.neutralise(text=text))

    async def say(self, *, text: str) -> None:
        await self._send(text=slack_mentions.neutralise(text=text))

    async def _send(self, **message: object) -> None:
        await send(url=self._response_url, response_type="ephemeral", **message)


async def send(*, url: str, **message: object) -> None:
    """One message through a ``response_url``; :class:`messenger.DeliveryFailed` if refused."""
    try:
        response = await AsyncWebhookClient(url, timeout=15).send(**message)  # type: ignore[arg-type]
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        raise messenger.DeliveryFailed(f"response_url unreachable: {error}") from error
    if response.status_code != 200:
        raise messenger.DeliveryFailed(
            f"response_url answered {response.status_code}: {response.body[:200]}"
        )
