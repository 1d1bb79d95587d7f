"""Slack side of "Ask a person" (the job): post the thread's link where people help, and say
in the question's thread who was asked."""

from slack_sdk.web.async_client import AsyncWebClient

from application import escalations as escalations_use_case
from domain.questions import escalations
from domain.text import slack_mentions

ESCALATION_EVENT = "chatbot_escalation"


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

    async def tell_asker(self, *, request: escalations.Request) -> None:
        await self._client.chat_postMessage(
            channel=request.channel_id,
            thread_ts=request.thread_ts,
            text=(
                f"<@{request.requested_by}> asked for a person: I posted this thread in "
                f"<#{request.target_channel_id}>, and someone will reply here."
            ),
        )
