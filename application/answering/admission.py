"""Who gets an answer: limits that keep things fair, and internal documents for internal people.

One person sending a hundred questions would delay everyone else's (the worker answers them
all at once, and the model provider's rate limit is shared), so each person has a number of
questions per minute and a number being answered at once (settings). A question over a limit,
or from someone outside the company in a Slack Connect channel (the answers quote internal
documents), is stored with its status (LIMITED, EXTERNAL) and the reason, for the admin, and
the asker is told politely in the thread: nothing is dropped silently.

The check and the question's row are one transaction, serialised per person (an advisory
lock), so questions arriving together are counted one after the other.
"""

import dataclasses
import datetime as dt

from django.conf import settings

from data import models
from domain.questions import records

# A question still PROCESSING after this long lost its job long ago: it is not in flight.
IN_FLIGHT_WINDOW = dt.timedelta(minutes=10)

EXTERNAL_MESSAGE = (
    "Sorry, I can only answer people in our own organisation: my answers come from internal "
    "documents that are not shared outside the company. Please ask your contact here instead."
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Refusal:
    status: str  # models.Question.Status
    reason: str  # for the admin
    message: str  # for the asker


@dataclasses.dataclass(frozen=True, kw_only=True)
class Verdict:
    question_id: int
    refusal: Refusal | None


def _refusal(*, new: records.NewQuestion, external: bool, question_id: int) -> Refusal | None:
    if external and not settings.CHATBOT_ANSWER_EXTERNAL_USERS:
        return Refusal(
            status=models.Question.Status.EXTERNAL,
            reason="asked by someone outside the organisation (CHATBOT_ANSWER_EXTERNAL_USERS)",
            message=EXTERNAL_MESSAGE,
        )
    per_minute = settings.CHATBOT_QUESTIONS_PER_MINUTE
    asked = records.count_asked(
        asker_id=new.asker_id,
        since=new.asked_at - dt.timedelta(minutes=1),
        excluding=question_id,
    )
    if per_minute and asked >= per_minute:
        return Refusal(
            status=models.Question.Status.LIMITED,
            reason=f"over {per_minute} questions a minute (CHATBOT_QUESTIONS_PER_MINUTE)",
            message=(
                f"You've asked me {asked} questions in the last minute, which is as many as I "
                "take from one person so that everyone gets answers quickly. Please ask this "
                "one again in a minute."
            ),
        )
    in_flight_limit = settings.CHATBOT_QUESTIONS_IN_FLIGHT
    in_flight = records.count_in_flight(
        asker_id=new.asker_id, since=new.asked_at - IN_FLIGHT_WINDOW, excluding=question_id
    )
    if in_flight_limit and in_flight >= in_flight_limit:
        return Refusal(
            status=models.Question.Status.LIMITED,
            reason=f"{in_flight} questions already being answered (CHATBOT_QUESTIONS_IN_FLIGHT)",
            message=(
                f"I'm still working on {in_flight} of your questions. To keep things fair for "
                "everyone, please ask this one again once those are answered."
            ),
        )
    return None


def admit(*, new: records.NewQuestion, external: bool) -> Verdict:
    """Store the question (PROCESSING) and decide whether it is answered; a write, run in one
    transaction through ``application.writes``."""
    if new.asker_id:
        records.lock_asker(asker_id=new.asker_id)
    question_id = records.start(new=new)
    refusal = (
        _refusal(new=new, external=external, question_id=question_id) if new.asker_id else None
    )
    if refusal is not None:
        records.refuse(question_id=question_id, status=refusal.status, reason=refusal.reason)
    return Verdict(question_id=question_id, refusal=refusal)


def refusal_of(question: records.QuestionState) -> Refusal | None:
    """The refusal an earlier run of the job recorded (its message may not have gone out)."""
    if question.status == models.Question.Status.EXTERNAL:
        return Refusal(status=question.status, reason="", message=EXTERNAL_MESSAGE)
    if question.status == models.Question.Status.LIMITED:
        return Refusal(
            status=question.status,
            reason="",
            message="Sorry, I couldn't take this question just now (too many at once). "
            "Please ask it again in a minute.",
        )
    return None
