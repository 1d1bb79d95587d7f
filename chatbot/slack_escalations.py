"""Slack side of "Ask a person" (the job): post the thread's link where people help, and say
in the question's thread who was asked."""

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from application import escalations as escalations_use_case
from domain.questions import escalations
from domain.text import slack_mentions

ESCALATION_EVENT = "chatbot_escalation"  # the post where people help
ESCALATION_NOTE_EVENT = "chatbot_escalation_note"  # the note in the asker's thread
HISTORY_LOOKBACK = 200  # the help channel's latest messages searched for an earlier post


def _carries(message: dict[str, Any], *, event_type: str, escalation_id: int) -> bool:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return (
        metadata.get("event_type") == event_type and payload.get("escalation_id") == escalation_id
    )


class SlackNotifier(escalations_use_case.Notifier):
    def __init__(self, *, client: AsyncWebClient) -> None:
        self._client = client

    async def notify(self, *, request: escalations.Request) -> str:
        link = await self._client.chat_getPermalink(
            channel=request.channel_id, message_ts=request.thread_ts
        )
        question = slack_mentions.neutralise(text=request.question_text)
        quoted = "\n".join(f"> {line}" for line in question[:2500].splitlines())
        who = f"<!subteam^{request.mention}> " if request.mention else ""
        text = (
            f"{who}<@{request.requested_by}> asked for a person about a question in "
            f"<#{request.channel_id}>:\n{quoted}\n<{link['permalink']}|Open the thread>"
        )
        posted = await self._client.chat_postMessage(
            channel=request.target_channel_id,
            text=text,
            unfurl_links=False,
            metadata={
                "event_type": ESCALATION_EVENT,
                "event_payload": {"escalation_id": request.id, "question_id": request.question_id},
            },
        )
        return str(posted["ts"])

    async def find_notification(self, *, request: escalations.Request) -> str:
        response = await self._client.conversations_history(
            channel=request.target_channel_id, limit=HISTORY_LOOKBACK, include_all_metadata=True
        )
        for message in response.get("messages") or []:
            if _carries(message, event_type=ESCALATION_EVENT, escalation_id=request.id):
                return str(message["ts"])
        return ""

    async def tell_asker(self, *, request: escalations.Request) -> None:
        await self._client.chat_postMessage(
            channel=request.channel_id,
            thread_ts=request.thread_ts,
            text=(
                f"<@{request.requested_by}> asked for a person: I posted this thread in "
                f"<#{request.target_channel_id}>, and someone will reply here."
            ),
            metadata={
                "event_type": ESCALATION_NOTE_EVENT,
                "event_payload": {"escalation_id": request.id},
            },
        )

    async def asker_was_told(self, *, request: escalations.Request) -> bool:
        cursor = None
        while True:
            response = await self._client.conversations_replies(
                channel=request.channel_id,
                ts=request.thread_ts,
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
            if any(
                _carries(message, event_type=ESCALATION_NOTE_EVENT, escalation_id=request.id)
                for message in response.get("messages") or []
            ):
                return True
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return False
