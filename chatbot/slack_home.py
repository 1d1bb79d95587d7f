"""The bot's App Home tab: what it knows, how to ask, your latest questions, and (for
reviewers) the way to the admin. Published with ``views.publish`` each time it is opened."""

from django.utils import formats, timezone
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from application import home as home_use_case
from chatbot import slack_client
from domain.questions import home
from domain.text import slack_mentions

HOW_TO_ASK = (
    "*How to ask*\n"
    "• Mention me in a channel: `@chatbot how do I roll back a deploy?`\n"
    "• Send me a direct message, or open me in the assistant pane.\n"
    "• `/ask <question>` answers only you, until you share it.\n"
    "• On any message: *⋮ → Ask about this message*.\n"
    "Answers quote the documentation with links; press 👍/👎 to tell the team how it went."
)


def _when(moment: object) -> str:
    if moment is None:
        return "never"
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")  # type: ignore[arg-type]


def _source_line(source: home.SourceSummary) -> str:
    pages = f"{source.pages} page" + ("" if source.pages == 1 else "s")
    return f"• *{source.name}*: {pages}, last synced {_when(source.last_synced)}"


def _question_line(question: home.RecentQuestion) -> str:
    text = slack_mentions.neutralise(text=" ".join(question.text.split()))
    text = text if len(text) <= 120 else text[:119].rstrip() + "…"
    if question.private:
        where = "privately"
    elif question.channel_id.startswith(("C", "G")):
        where = f"in <#{question.channel_id}>"
    else:
        where = "in a DM"
    return f"• {text}\n    _{question.status}_, {where}, {_when(question.asked_at)}"


def view(home_page: home_use_case.Home) -> dict[str, object]:
    blocks: list[Block] = [
        HeaderBlock(text="What I know"),
        SectionBlock(
            text=MarkdownTextObject(
                text="\n".join(_source_line(source) for source in home_page.sources)
                or "No documentation has been ingested yet."
            )
        ),
        DividerBlock(),
        SectionBlock(text=MarkdownTextObject(text=HOW_TO_ASK)),
        DividerBlock(),
        HeaderBlock(text="Your latest questions"),
        SectionBlock(
            text=MarkdownTextObject(
                text="\n".join(_question_line(question) for question in home_page.recent)[:2900]
                or "You haven't asked anything yet."
            )
        ),
    ]
    if home_page.admin_url:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text="Reviewers: questions, feedback and gaps are in the "
                        f"<{home_page.admin_url}|admin>."
                    )
                ]
            )
        )
    return View(type="home", blocks=blocks).to_dict()


async def publish(user_id: str, home_page: home_use_case.Home) -> None:
    client = slack_client.web_client(shared_session=True)
    await client.views_publish(user_id=user_id, view=view(home_page))
