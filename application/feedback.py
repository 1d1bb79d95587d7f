"""Store a 👍/👎 from Slack's buttons, and why a 👎 (the short form it opens); called while
Slack waits, so each is one quick write."""

from django.utils import timezone

from application import writes
from domain.questions import feedback


def _record(*, answer_id: int, slack_user_id: str, vote: str) -> None:
    feedback.record_vote(
        answer_id=answer_id, slack_user_id=slack_user_id, vote=vote, now=timezone.now()
    )


async def record_vote(*, answer_id: int, slack_user_id: str, vote: str) -> bool:
    """Store the vote (replacing this person's earlier one); False if the answer is unknown."""
    try:
        await writes.write(_record, answer_id=answer_id, slack_user_id=slack_user_id, vote=vote)
    except feedback.UnknownAnswer:
        return False
    return True


def _record_reason(*, answer_id: int, slack_user_id: str, reason: str, comment: str) -> None:
    feedback.record_reason(
        answer_id=answer_id,
        slack_user_id=slack_user_id,
        reason=reason,
        comment=comment,
        now=timezone.now(),
    )


async def record_reason(*, answer_id: int, slack_user_id: str, reason: str, comment: str) -> bool:
    """Store why this person voted 👎; False if the answer is unknown."""
    try:
        await writes.write(
            _record_reason,
            answer_id=answer_id,
            slack_user_id=slack_user_id,
            reason=reason,
            comment=comment,
        )
    except feedback.UnknownAnswer:
        return False
    return True
