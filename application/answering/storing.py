"""The answer pipeline's writes: small sync functions, each run as one transaction.

They are called through ``application.writes.write``, never directly from async code.
"""

import datetime as dt

from django.conf import settings

from application.answering import generation
from domain.questions import records


def start_question(*, new: records.NewQuestion) -> int:
    return records.start(new=new)


def record_answer(
    *,
    question_id: int,
    generated: generation.Generated,
    slack_channel_id: str,
    now: dt.datetime,
    live_answer_id: int | None,
    first_status_ms: int | None,
) -> int:
    assert generated.output is not None
    return records.record_answer(
        answer_id=live_answer_id,
        question_id=question_id,
        text=generated.output.answer,
        covered=generated.output.covered,
        model=settings.CHATBOT_MODEL,
        citations=generated.citations,
        runs=generated.runs,
        title=generated.output.title,
        category=generated.output.category,
        slack_channel_id=slack_channel_id,
        now=now,
        first_status_ms=first_status_ms,
    )


def record_failure(
    *,
    question_id: int,
    generated: generation.Generated,
    live_answer_id: int | None,
    first_status_ms: int | None,
) -> None:
    records.mark_failed(
        question_id=question_id,
        error=generated.error or "unknown error",
        runs=generated.runs,
        unfinished_answer_id=live_answer_id,
        first_status_ms=first_status_ms,
    )


def forget_unfinished_answer(*, answer_id: int) -> None:
    records.forget_unfinished_answer(answer_id=answer_id)


def start_live_answer(*, question_id: int, slack_channel_id: str, ts: str, now: dt.datetime) -> int:
    return records.start_live_answer(
        question_id=question_id,
        model=settings.CHATBOT_MODEL,
        slack_channel_id=slack_channel_id,
        slack_message_ts=ts,
        now=now,
    )


def record_message_ts(*, answer_id: int, ts: str) -> None:
    records.record_message_ts(answer_id=answer_id, slack_message_ts=ts)


def record_delivery(*, question_id: int, answer_id: int, ts: str, now: dt.datetime) -> None:
    records.mark_delivered(
        question_id=question_id, answer_id=answer_id, slack_message_ts=ts, now=now
    )


def record_undelivered(*, question_id: int, error: str) -> None:
    records.mark_undelivered(question_id=question_id, error=error)


def record_given_up(*, question_id: int, error: str) -> None:
    records.give_up(question_id=question_id, error=error)
