"""Sharing a private answer (/ask) in its channel: once, and only by the person who asked.

The claim is one conditional update, so two presses of "Share in channel" share once; a post
that fails gives the claim back, so the asker can press again.
"""

import dataclasses
import datetime as dt

from django.db.models import Prefetch

from data import models


@dataclasses.dataclass(frozen=True, kw_only=True)
class SharedSource:
    title: str
    heading: str
    url: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class SharedAnswer:
    answer_id: int
    question_id: int
    question_text: str
    asker_id: str
    text: str
    sources: list[SharedSource]


def claim(*, answer_id: int, user_id: str, now: dt.datetime) -> SharedAnswer | None:
    """Mark the answer shared and return it; None when it is not this person's private
    answer, or was shared already. Call inside the caller's atomic block."""
    claimed = models.Answer.objects.filter(
        pk=answer_id,
        shared_at__isnull=True,
        question__private=True,
        question__asker_id=user_id,
    ).update(shared_at=now)
    if not claimed:
        return None
    answer = (
        models.Answer.objects.select_related("question")
        .prefetch_related(
            Prefetch("citations", queryset=models.Citation.objects.order_by("position", "id"))
        )
        .get(pk=answer_id)
    )
    return SharedAnswer(
        answer_id=answer.pk,
        question_id=answer.question_id,
        question_text=answer.question.text,
        asker_id=answer.question.asker_id,
        text=answer.text,
        sources=[
            SharedSource(title=citation.title, heading=citation.heading, url=citation.url)
            for citation in answer.citations.all()
        ],
    )


def release(*, answer_id: int) -> None:
    """The post failed: the answer can be shared again."""
    models.Answer.objects.filter(pk=answer_id).update(shared_at=None)
