"""Forget questions older than ``CHATBOT_RETENTION_DAYS`` (the daily job; 0 keeps them all).

Each batch is one short transaction (``domain/questions/retention.py``), run until nothing
older is left, so the job can stop anywhere and the next run carries on.
"""

import datetime as dt

from django.conf import settings
from django.utils import timezone

from application import writes
from domain.questions import retention

BATCH = 500


async def forget_old(*, now: dt.datetime | None = None) -> retention.Forgotten:
    """How many questions were forgotten and inbox events deleted."""
    days = settings.CHATBOT_RETENTION_DAYS
    if days <= 0:
        return retention.Forgotten(questions=0, events=0)
    now = now or timezone.now()
    before = now - dt.timedelta(days=days)
    questions = events = 0
    while True:
        done = await writes.write(retention.forget_batch, before=before, now=now, size=BATCH)
        questions += done.questions
        events += done.events
        if done.questions < BATCH and done.events < BATCH:
            return retention.Forgotten(questions=questions, events=events)
