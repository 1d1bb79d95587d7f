"""Eval cases made from questions in the admin (sync: the admin calls it; one transaction)."""

from django.utils import timezone

from application import writes
from domain.evals import records


def make(*, question_ids: list[int], created_by_id: int | None) -> int:
    """An eval case for each of the questions that has none; how many were made."""
    return writes.write_sync(
        records.make_cases,
        question_ids=question_ids,
        created_by_id=created_by_id,
        now=timezone.now(),
    )
