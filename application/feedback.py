"""Store a 👍/👎 from Slack's buttons; called while Slack waits, so it is one quick write."""

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
