"""Post release notes to a Slack channel: Markdown turned into Slack's mrkdwn, in pieces.

Slack renders its own mrkdwn, not Markdown, and advises keeping a message's text under 4,000
characters. The first piece goes to the channel and the rest into its thread, so a long
release does not flood the channel.

slack_sdk (and aiohttp under it) is imported only when posting: ``manage.py release_notes``
imports this module on every run, and most runs post nothing (docs/architecture.md, Python
and Django style).
"""

import re

from application.release_notes import generating
from domain.text import message_splitting, slack_mentions

MESSAGE_LIMIT = 3_900

_HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+)$", re.MULTILINE)
# The notes escape Markdown's special characters in commit and model text with a backslash
# ("\\[x\\](https://evil.example)"): an escaped bracket or star starts no link and no bold.
_BOLD = re.compile(r"(?<!\\)\*\*(?P<text>(?:\\.|[^*\\\n])+)\*\*")
_LINK = re.compile(r"(?<!\\)\[(?P<label>(?:\\.|[^\]\\\n])+)\]\((?P<url>https?://[^)\s]+)\)")
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def to_mrkdwn(markdown: str) -> str:
    text = markdown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _HEADING.sub(lambda m: f"*{m['title'].strip()}*", text)
    text = _BOLD.sub(lambda m: f"*{m['text']}*", text)
    text = _LINK.sub(lambda m: f"<{m['url']}|{m['label']}>", text)
    # Slack has no backslash escapes: show the characters themselves. The escaping above
    # already disarmed <!here>-style syntax; a plain "@here" in a commit must not page either.
    return slack_mentions.neutralise(text=_ESCAPED.sub(r"\1", text))


class SlackPublisher:
    """The ``generating.Publisher`` for Slack."""

    async def publish(self, *, channel: str, markdown: str) -> None:
        from slack_sdk.errors import SlackApiError, SlackClientError

        from chatbot import slack_client

        client = slack_client.web_client()
        pieces = message_splitting.split(text=to_mrkdwn(markdown), limit=MESSAGE_LIMIT)
        thread_ts: str | None = None
        try:
            for piece in pieces:
                response = await client.chat_postMessage(
                    channel=channel,
                    text=piece,
                    thread_ts=thread_ts,
                    mrkdwn=True,
                    unfurl_links=False,
                    unfurl_media=False,
                )
                if thread_ts is None:
                    thread_ts = str(response["ts"])
        except (SlackApiError, SlackClientError) as error:
            raise generating.PublishFailed(
                f"could not post to Slack channel {channel}: {error}"
            ) from error
