"""Post release notes to a Slack channel: the Markdown as Markdown, in pieces.

Slack renders Markdown itself in ``markdown`` blocks (up to 12,000 characters a message), so
the notes go as written: headings, lists, links and code intact, and the backslash escapes
that keep commit text from becoming links or emphasis (the notes' rendering adds them) work
as they do in the admin. Mentions are neutralised (``domain.text.slack_mentions``): a commit
that says "@here" pages nobody. The first piece goes to the channel and the rest into its
thread, so a long release does not flood the channel.

slack_sdk (and aiohttp under it) is imported only when posting: ``manage.py release_notes``
imports this module on every run, and most runs post nothing (docs/architecture.md, Python
and Django style).
"""

from application.release_notes import generating
from domain.text import message_splitting, slack_mentions

MARKDOWN_LIMIT = 11_000  # Slack allows 12,000 characters of markdown blocks per message
FALLBACK_LIMIT = 3_000  # the notification text (and what clients without blocks show)


class SlackPublisher:
    """The ``generating.Publisher`` for Slack."""

    async def publish(self, *, channel: str, markdown: str) -> None:
        from slack_sdk.errors import SlackApiError, SlackClientError
        from slack_sdk.models.blocks import MarkdownBlock

        from chatbot import slack_client

        client = slack_client.web_client()
        text = slack_mentions.neutralise(text=markdown)
        pieces = message_splitting.split(text=text, limit=MARKDOWN_LIMIT) or [text]
        thread_ts: str | None = None
        try:
            for piece in pieces:
                response = await client.chat_postMessage(
                    channel=channel,
                    text=piece[:FALLBACK_LIMIT],
                    blocks=[MarkdownBlock(text=piece)],
                    thread_ts=thread_ts,
                    unfurl_links=False,
                    unfurl_media=False,
                )
                if thread_ts is None:
                    thread_ts = str(response["ts"])
        except (SlackApiError, SlackClientError) as error:
            raise generating.PublishFailed(
                f"could not post to Slack channel {channel}: {error}"
            ) from error
