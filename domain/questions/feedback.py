"""👍/👎 votes on answers: one per person per answer, and voting again changes it."""

import datetime as dt

from data import models


class UnknownAnswer(Exception):
    """The vote names an answer that does not exist (deleted, or a forged button value)."""


def record_vote(*, answer_id: int, slack_user_id: str, vote: str, now: dt.datetime) -> None:
    """Upsert the vote; call inside the caller's atomic block."""
    if not models.Answer.objects.filter(pk=answer_id).exists():
        raise UnknownAnswer(answer_id)
    models.Feedback.objects.update_or_create(
        answer_id=answer_id,
        slack_user_id=slack_user_id,
        defaults={"vote": vote, "updated_at": now},
        create_defaults={"vote": vote, "created_at": now, "updated_at": now},
    )
