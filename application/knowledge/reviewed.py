"""Reviewers' corrections that stick: write the right answer once, and the bot cites it.

Called from the admin (sync): each runs in one transaction (``writes.write_sync``).
"""

import datetime as dt

from django.utils import timezone

from application import writes
from domain.knowledge import reviewed


def publish(*, question_id: int, text: str, reviewer_id: int | None, reviewer_name: str) -> int:
    return writes.write_sync(
        reviewed.publish,
        question_id=question_id,
        text=text,
        reviewer_id=reviewer_id,
        reviewer_name=reviewer_name,
        now=timezone.now(),
    )


def _retire_all(*, reviewed_ids: list[int], now: dt.datetime) -> int:
    return sum(reviewed.retire(reviewed_id=pk, now=now) for pk in reviewed_ids)


def retire(*, reviewed_ids: list[int]) -> int:
    """How many were in force and are now retired."""
    return writes.write_sync(_retire_all, reviewed_ids=reviewed_ids, now=timezone.now())
