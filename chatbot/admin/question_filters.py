"""The question list's own filters: by the votes its answers got, and by Slack channel."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from data import models
from domain.questions import review


class FeedbackFilter(admin.SimpleListFilter):
    title = "feedback"
    parameter_name = "feedback"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("down", "Any 👎"), ("up", "Any 👍"), ("none", "No feedback")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[models.Question]
    ) -> QuerySet[models.Question]:
        match self.value():
            case "down":
                return queryset.filter(review.has_vote(vote=models.Feedback.Vote.DOWN))
            case "up":
                return queryset.filter(review.has_vote(vote=models.Feedback.Vote.UP))
            case "none":
                return queryset.filter(~review.has_vote())
        return queryset


class ChannelFilter(admin.SimpleListFilter):
    """Slack channels that questions came from, and all direct messages as one entry.

    DMs and assistant threads live in each asker's own DM channel (IDs starting with "D"):
    listing them one by one would bury the channels under an entry per person.
    """

    title = "Slack channel"
    parameter_name = "channel"
    DIRECT = "direct"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        channels = (
            models.Question.objects.exclude(channel_id="")
            .exclude(channel_id__startswith="D")
            .order_by("channel_id")
            .values_list("channel_id", flat=True)
            .distinct()
        )
        return [(self.DIRECT, "Direct messages"), *((channel, channel) for channel in channels)]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[models.Question]
    ) -> QuerySet[models.Question]:
        match self.value():
            case None:
                return queryset
            case self.DIRECT:
                return queryset.filter(channel_id__startswith="D")
            case channel:
                return queryset.filter(channel_id=channel)
