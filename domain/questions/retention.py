"""Forgetting old questions: their words and the people in them go, their figures stay.

A question older than the retention period keeps its status, category, channel, timings,
votes, model runs and costs (the admin's figures are built from those), and loses what people
wrote or who they were: the question's and answers' text, names and ids, the reasons and
comments of votes, the person's answer to a request for help. The raw Slack events of the
inbox, which hold the same words, are deleted outright. Work goes in batches, each one
transaction, so a large backlog never holds locks for long.
"""

import dataclasses
import datetime as dt

from django.db.models import F, Value
from django.db.models.functions import Concat

from data import models

REMOVED = "(removed after the retention period)"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Forgotten:
    questions: int
    events: int


def forget_batch(*, before: dt.datetime, now: dt.datetime, size: int) -> Forgotten:
    """Forget up to ``size`` questions asked before ``before``, and delete up to ``size``
    inbox events received before it. Call inside the caller's atomic block."""
    ids = list(
        models.Question.objects.filter(asked_at__lt=before, forgotten_at__isnull=True)
        .order_by("asked_at", "id")
        .values_list("id", flat=True)[:size]
    )
    if ids:
        models.Question.objects.filter(pk__in=ids).update(
            text=REMOVED,
            title="",
            asker_id="",
            asker_name="",
            review_note="",
            forgotten_at=now,
        )
        models.Answer.objects.filter(question_id__in=ids).update(text=REMOVED)
        # One vote per person per answer stays one vote, under a name that is nobody's.
        models.Feedback.objects.filter(answer__question_id__in=ids).update(
            slack_user_id=Concat(Value("forgotten-"), F("id")), comment=""
        )
        models.Escalation.objects.filter(question_id__in=ids).update(
            requested_by="", person_answer=""
        )
        models.Escalation.objects.filter(question_id__in=ids).exclude(answered_by="").update(
            answered_by="forgotten"
        )
    event_ids = list(
        models.SlackEvent.objects.filter(received_at__lt=before)
        .order_by("received_at", "id")
        .values_list("id", flat=True)[:size]
    )
    if event_ids:
        models.SlackEvent.objects.filter(pk__in=event_ids).delete()
    return Forgotten(questions=len(ids), events=len(event_ids))
