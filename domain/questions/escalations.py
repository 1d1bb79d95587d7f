"""Requests for a person ("Ask a person" under an answer): where they go, and their record.

The request and its job are written in one transaction; the job posts the thread's link to
the helping channel and records the post, so a re-run of the job never posts twice once the
post is on record.
"""

import dataclasses
import datetime as dt

from django.db import IntegrityError, transaction

from data import models
from domain.questions.escalation_routes import Route, route_for


class UnknownAnswer(Exception):
    """The button names an answer that does not exist (deleted, or a forged value)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Request:
    """An escalation as its job needs it: what was asked, where, and where it goes."""

    id: int
    question_id: int
    question_text: str
    channel_id: str
    thread_ts: str
    asker_id: str
    requested_by: str
    target_channel_id: str
    mention: str
    notified_ts: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Opened:
    escalation_id: int
    question_id: int
    channel_id: str
    thread_ts: str
    new: bool  # False: one was already open for this question


def question_of_answer(*, answer_id: int) -> models.Question:
    answer = models.Answer.objects.select_related("question").filter(pk=answer_id).first()
    if answer is None:
        raise UnknownAnswer(answer_id)
    return answer.question


def open_escalation(
    *, answer_id: int, requested_by: str, routes: dict[str, Route], now: dt.datetime
) -> Opened | None:
    """Record the request, or find the one already open for the question; None when no
    channel helps with the question's channel. Call inside the caller's atomic block."""
    question = question_of_answer(answer_id=answer_id)
    route = route_for(channel_id=question.channel_id, routes=routes)
    if route is None:
        return None
    try:
        with transaction.atomic():  # a savepoint: a second press loses the race, nothing else
            escalation = models.Escalation.objects.create(
                question=question,
                answer_id=answer_id,
                requested_by=requested_by,
                target_channel_id=route.channel_id,
                mention=route.mention,
                requested_at=now,
            )
        new = True
    except IntegrityError:
        escalation = models.Escalation.objects.get(
            question=question, state=models.Escalation.State.OPEN
        )
        new = False
    return Opened(
        escalation_id=escalation.pk,
        question_id=question.pk,
        channel_id=question.channel_id,
        thread_ts=question.thread_ts,
        new=new,
    )


async def get(*, escalation_id: int) -> Request:
    escalation = await models.Escalation.objects.select_related("question").aget(pk=escalation_id)
    question = escalation.question
    return Request(
        id=escalation.pk,
        question_id=question.pk,
        question_text=question.text,
        channel_id=question.channel_id,
        thread_ts=question.thread_ts,
        asker_id=question.asker_id,
        requested_by=escalation.requested_by,
        target_channel_id=escalation.target_channel_id,
        mention=escalation.mention,
        notified_ts=escalation.notified_ts,
    )


def record_notified(*, escalation_id: int, ts: str, now: dt.datetime) -> None:
    models.Escalation.objects.filter(pk=escalation_id).update(notified_ts=ts, notified_at=now)


def awaits_a_person(*, channel_id: str, thread_ts: str, replier_id: str) -> bool:
    """Whether a reply by ``replier_id`` in this thread may be the person's answer: a request
    for a person is open there, and the replier is not the one who asked. Sync, so the inbox
    can ask it inside the transaction that stores the reply."""
    return (
        models.Escalation.objects.filter(
            state=models.Escalation.State.OPEN,
            question__channel_id=channel_id,
            question__thread_ts=thread_ts,
        )
        .exclude(question__asker_id=replier_id)
        .exists()
    )


def record_person_answer(
    *, channel_id: str, thread_ts: str, replier_id: str, text: str, now: dt.datetime
) -> int:
    """The first reply by someone other than the asker answers the thread's open requests:
    they become ANSWERED with the reply. How many were answered (0 when none was open)."""
    return (
        models.Escalation.objects.filter(
            state=models.Escalation.State.OPEN,
            question__channel_id=channel_id,
            question__thread_ts=thread_ts,
        )
        .exclude(question__asker_id=replier_id)
        .update(
            state=models.Escalation.State.ANSWERED,
            person_answer=text,
            answered_by=replier_id,
            answered_at=now,
        )
    )
