"""Reviewers' corrections that stick: write the right answer once, and the bot cites it.

Called from the admin (sync): each runs in one transaction.
"""

from django.db import transaction
from django.utils import timezone

from domain.knowledge import reviewed


def publish(*, question_id: int, text: str, reviewer_id: int | None, reviewer_name: str) -> int:
    with transaction.atomic():
        return reviewed.publish(
            question_id=question_id,
            text=text,
            reviewer_id=reviewer_id,
            reviewer_name=reviewer_name,
            now=timezone.now(),
        )


def retire(*, reviewed_ids: list[int]) -> int:
    """How many were in force and are now retired."""
    with transaction.atomic():
        now = timezone.now()
        return sum(reviewed.retire(reviewed_id=pk, now=now) for pk in reviewed_ids)
