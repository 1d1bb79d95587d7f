"""The Block Kit an answer carries in Slack: its sources, the 👍/👎 buttons, and the metadata
that names the answer, so a re-run can find a message the database lost track of."""

from typing import Any

from application.answering import messenger
from domain.text import slack_mentions

FEEDBACK_UP = "feedback_up"
FEEDBACK_DOWN = "feedback_down"
# Slack message metadata on every message of an answer (``event_payload``: question_id,
# answer_id, and part: the message's place in an answer too long for one).
ANSWER_EVENT = "chatbot_answer"


def _link_text(text: str) -> str:
    text = text.replace("|", "/").replace(">", ")").replace("<", "(").replace("&", "and")
    return slack_mentions.neutralise(text=text)


def source_label(source: messenger.Source) -> str:
    return messenger.section_label(title=source.title, heading_path=source.heading)


def under_the_answer(answer: messenger.OutgoingAnswer) -> list[dict[str, Any]]:
    """The blocks under every answer: its sources, then 👍/👎 carrying the answer's id."""
    blocks: list[dict[str, Any]] = []
    if answer.sources:
        lines = []
        for number, source in enumerate(answer.sources, start=1):
            label = _link_text(source_label(source))
            lines.append(
                f"{number}. <{source.url}|{label}>" if source.url else f"{number}. {label}"
            )
        blocks.append(
            {
                "type": "section",
                "block_id": "sources",
                "text": {"type": "mrkdwn", "text": "*Sources*\n" + "\n".join(lines)[:2900]},
            }
        )
    blocks.append(
        {
            "type": "actions",
            "block_id": "feedback",
            "elements": [
                {
                    "type": "button",
                    "action_id": FEEDBACK_UP,
                    "text": {"type": "plain_text", "text": "👍", "emoji": True},
                    "value": str(answer.answer_id),
                },
                {
                    "type": "button",
                    "action_id": FEEDBACK_DOWN,
                    "text": {"type": "plain_text", "text": "👎", "emoji": True},
                    "value": str(answer.answer_id),
                },
            ],
        }
    )
    return blocks


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
