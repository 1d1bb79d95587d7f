"""The Block Kit an answer carries in Slack: its sources, 👍/👎, "Ask a person", and the
metadata that names the answer, so a re-run can find a message the database lost track of.

Built with slack_sdk's Block Kit models, which check Slack's limits as they serialise.
"""

from typing import Any

from django.conf import settings
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextActionsBlock,
    FeedbackButtonObject,
    FeedbackButtonsElement,
    MarkdownBlock,
    MarkdownTextObject,
    SectionBlock,
)

from application.answering import messenger
from domain.questions import escalation_routes, sharing
from domain.text import slack_mentions

# Slack's feedback buttons (one element, two buttons): the pressed button's value is
# "UP:<answer id>" or "DOWN:<answer id>".
FEEDBACK = "feedback"
# The plain 👍/👎 buttons of answers posted before the feedback buttons; still honoured.
FEEDBACK_UP = "feedback_up"
FEEDBACK_DOWN = "feedback_down"
ASK_A_PERSON = "ask_a_person"
# Under a private answer (/ask): post it in the channel, attributed to the asker.
SHARE = "share_answer"
# Slack message metadata on every message of an answer (``event_payload``: question_id,
# answer_id, and part: the message's place in an answer too long for one).
ANSWER_EVENT = "chatbot_answer"


def _link_text(text: str) -> str:
    text = text.replace("|", "/").replace(">", ")").replace("<", "(").replace("&", "and")
    return slack_mentions.neutralise(text=text)


def source_label(source: messenger.Source) -> str:
    return messenger.section_label(title=source.title, heading_path=source.heading)


def _sources(sources: list[messenger.Source]) -> SectionBlock:
    lines = []
    for number, source in enumerate(sources, start=1):
        label = _link_text(source_label(source))
        lines.append(f"{number}. <{source.url}|{label}>" if source.url else f"{number}. {label}")
    return SectionBlock(
        block_id="sources",
        text=MarkdownTextObject(text="*Sources*\n" + "\n".join(lines)[:2900]),
    )


def shared_answer(shared: sharing.SharedAnswer) -> list[dict[str, Any]]:
    """A private answer shared in the channel: who asked what, the answer, its sources."""
    question = slack_mentions.neutralise(text=shared.question_text)
    quoted = "\n".join(f">{line}" for line in question[:2500].splitlines())
    blocks: list[Block] = [
        SectionBlock(
            block_id="asked",
            text=MarkdownTextObject(text=f"<@{shared.asker_id}> asked:\n{quoted}"),
        ),
        MarkdownBlock(text=slack_mentions.neutralise(text=shared.text)[:11_000]),
    ]
    if shared.sources:
        blocks.append(
            _sources(
                [
                    messenger.Source(title=source.title, heading=source.heading, url=source.url)
                    for source in shared.sources
                ]
            )
        )
    return [block.to_dict() for block in blocks]


def vote_of(value: str) -> tuple[str, int] | None:
    """``("UP" | "DOWN", answer id)`` from a feedback button's value, or None if malformed."""
    vote, _, answer_id = value.partition(":")
    if vote not in ("UP", "DOWN") or not answer_id.isdigit():
        return None
    return vote, int(answer_id)


def under_the_answer(
    answer: messenger.OutgoingAnswer, *, channel_id: str, private: bool = False
) -> list[dict[str, Any]]:
    """The blocks under every answer: its sources, 👍/👎 carrying the answer's id, and "Ask a
    person" where a channel helps with questions from ``channel_id``; under a ``private``
    answer, "Share in channel" instead (a request for a person needs a thread)."""
    blocks: list[Block] = []
    if answer.sources:
        blocks.append(_sources(answer.sources))
    blocks.append(
        ContextActionsBlock(
            block_id="feedback",
            elements=[
                FeedbackButtonsElement(
                    action_id=FEEDBACK,
                    positive_button=FeedbackButtonObject(
                        text="👍", value=f"UP:{answer.answer_id}", accessibility_label="Helpful"
                    ),
                    negative_button=FeedbackButtonObject(
                        text="👎",
                        value=f"DOWN:{answer.answer_id}",
                        accessibility_label="Not helpful",
                    ),
                )
            ],
        )
    )
    if private:
        blocks.append(
            ActionsBlock(
                block_id="share",
                elements=[
                    ButtonElement(
                        action_id=SHARE,
                        text="Share in channel",
                        value=str(answer.answer_id),
                        style="primary",
                    )
                ],
            )
        )
    elif escalation_routes.route_for(channel_id=channel_id, routes=settings.ESCALATION_ROUTES):
        blocks.append(
            ActionsBlock(
                block_id="escalation",
                elements=[
                    ButtonElement(
                        action_id=ASK_A_PERSON,
                        text="Ask a person",
                        value=str(answer.answer_id),
                    )
                ],
            )
        )
    return [block.to_dict() for block in blocks]


def metadata(answer: messenger.OutgoingAnswer, *, part: int = 0) -> dict[str, Any]:
    return {
        "event_type": ANSWER_EVENT,
        "event_payload": {
            "question_id": answer.question_id,
            "answer_id": answer.answer_id,
            "part": part,
        },
    }


def parts_of(messages: list[dict[str, Any]], *, answer_id: int) -> list[str]:
    """The ts of the messages (from ``conversations.replies``) that carry this answer, in order."""
    parts: dict[int, str] = {}
    for message in messages:
        meta = message.get("metadata")
        if not isinstance(meta, dict) or meta.get("event_type") != ANSWER_EVENT:
            continue
        payload = meta.get("event_payload")
        if not isinstance(payload, dict) or payload.get("answer_id") != answer_id:
            continue
        part = payload.get("part", 0)
        if isinstance(part, int) and part not in parts:
            parts[part] = str(message.get("ts", ""))
    # Only an unbroken run from the first message: what follows a gap is posted again.
    found: list[str] = []
    while len(found) in parts:
        found.append(parts[len(found)])
    return found
