"""The short form a 👎 opens ("what was wrong?"), and reading what was sent with it.

Slack opens a form only with the ``trigger_id`` of the press, for three seconds: the form is
opened right after the press is acknowledged (``chatbot/slack_http.py``), never from a job.
"""

from typing import Any

from slack_sdk.models.blocks import (
    InputBlock,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
)
from slack_sdk.models.views import View

from data import models

CALLBACK_ID = "feedback_reason"
COMMENT_LIMIT = 2000


def form(*, answer_id: int) -> dict[str, Any]:
    """The modal: one reason (required) and a comment (optional), for ``answer_id``."""
    return View(
        type="modal",
        callback_id=CALLBACK_ID,
        private_metadata=str(answer_id),
        title="What was wrong?",
        submit="Send",
        close="Skip",
        blocks=[
            InputBlock(
                block_id="reason",
                label="The answer was",
                element=RadioButtonsElement(
                    action_id="reason",
                    options=[
                        Option(value=value, label=label)
                        for value, label in models.Feedback.Reason.choices
                    ],
                ),
            ),
            InputBlock(
                block_id="comment",
                label="Anything the team should know?",
                optional=True,
                element=PlainTextInputElement(
                    action_id="comment", multiline=True, max_length=COMMENT_LIMIT
                ),
            ),
        ],
    ).to_dict()


def is_submission(payload: dict[str, Any]) -> bool:
    """Whether an interactivity payload is this form, sent, in the shape Slack sends it."""
    view, user = payload.get("view"), payload.get("user")
    return (
        payload.get("type") == "view_submission"
        and isinstance(user, dict)
        and isinstance(user.get("id"), str)
        and isinstance(view, dict)
        and view.get("callback_id") == CALLBACK_ID
        and isinstance(view.get("private_metadata"), str)
        and isinstance(view.get("state"), dict)
        and isinstance(view["state"].get("values"), dict)
    )


def answer_of(payload: dict[str, Any]) -> int | None:
    metadata = payload["view"]["private_metadata"]
    return int(metadata) if metadata.isdigit() else None


def _field(values: dict[str, Any], name: str) -> dict[str, Any]:
    """The state of the input ``name`` (block and action share the name); {} if absent."""
    block = values.get(name)
    state = block.get(name) if isinstance(block, dict) else None
    return state if isinstance(state, dict) else {}


def reason_of(payload: dict[str, Any]) -> tuple[str, str] | None:
    """``(reason, comment)`` as sent, or None when the reason is missing or unknown."""
    values = payload["view"]["state"]["values"]
    selected = _field(values, "reason").get("selected_option")
    reason = selected.get("value") if isinstance(selected, dict) else None
    if reason not in models.Feedback.Reason.values:
        return None
    comment = _field(values, "comment").get("value")
    return str(reason), (comment if isinstance(comment, str) else "")[:COMMENT_LIMIT]
