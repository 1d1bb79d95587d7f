"""👍/👎 votes on answers: one per person per answer, and voting again changes it; a 👎 may
say why."""

import datetime as dt

from data import models


class UnknownAnswer(Exception):
    """The vote names an answer that does not exist (deleted, or a forged button value)."""


def record_vote(*, answer_id: int, slack_user_id: str, vote: str, now: dt.datetime) -> None:
    """Upsert the vote; call inside the caller's atomic block."""
    if not models.Answer.objects.filter(pk=answer_id).exists():
        raise UnknownAnswer(answer_id)
    # A changed vote drops the reason given for the old one (a 👍 has none).
    models.Feedback.objects.update_or_create(
        answer_id=answer_id,
        slack_user_id=slack_user_id,
        defaults={"vote": vote, "updated_at": now}
        | ({"reason": "", "comment": ""} if vote == models.Feedback.Vote.UP else {}),
        create_defaults={"vote": vote, "created_at": now, "updated_at": now},
    )


def record_reason(
    *, answer_id: int, slack_user_id: str, reason: str, comment: str, now: dt.datetime
) -> None:
    """Why this person voted 👎 (from the form a 👎 opens): stored on their vote, which it
    makes a 👎 if they changed it meanwhile. Call inside the caller's atomic block."""
    if not models.Answer.objects.filter(pk=answer_id).exists():
        raise UnknownAnswer(answer_id)
    fields = {"vote": models.Feedback.Vote.DOWN, "reason": reason, "comment": comment}
    models.Feedback.objects.update_or_create(
        answer_id=answer_id,
        slack_user_id=slack_user_id,
        defaults={**fields, "updated_at": now},
        create_defaults={**fields, "created_at": now, "updated_at": now},
    )
