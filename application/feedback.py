"""Store a 👍/👎 from Slack's buttons; called while Slack waits, so it is one quick write."""

from asgiref.sync import sync_to_async
from django.db import transaction
from django.utils import timezone

from domain import feedback


def _record(answer_id: int, slack_user_id: str, vote: str) -> bool:
    try:
        with transaction.atomic():
            feedback.record_vote(
                answer_id=answer_id, slack_user_id=slack_user_id, vote=vote, now=timezone.now()
            )
    except feedback.UnknownAnswer:
        return False
    return True


async def record_vote(*, answer_id: int, slack_user_id: str, vote: str) -> bool:
    """Store the vote (replacing this person's earlier one); False if the answer is unknown."""
    return await sync_to_async(_record, thread_sensitive=True)(answer_id, slack_user_id, vote)
