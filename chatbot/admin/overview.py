"""The overview at the top of the admin index: how the bot did today and this week.

The index view is Django's own, so the numbers come in through a template tag
(``{% question_overview %}``, in ``chatbot.templatetags.admin_overview``), which reads the
clock here, at the edge, and asks the domain for the figures.
"""

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from data import models
from domain import question_review


def context(*, request: HttpRequest) -> dict[str, Any]:
    """The overview for users who may see questions; nothing for everyone else."""
    if not request.user.has_perm("data.view_question"):
        return {"overview": None}
    now = timezone.now()
    figures = question_review.overview(now=now)
    changelist = reverse("admin:data_question_changelist")
    return {
        "overview": figures,
        "questions_url": changelist,
        "down_voted_url": f"{changelist}?feedback=down",
        "unreviewed_url": f"{changelist}?reviewed__exact=0",
        "category_url": f"{changelist}?category__exact=",
        "categories_total": sum(row.count for row in figures.top_categories),
        "statuses": models.Question.Status,
    }
