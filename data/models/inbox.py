"""The Slack inbox: each acknowledged event, stored before Slack gets its 200."""

from django.db import models


class SlackEvent(models.Model):
    """The inbox: every Slack event we acknowledged, keyed by Slack's ``event_id``.

    The unique constraint is what makes Slack's retries (and concurrent duplicate deliveries)
    harmless: the second insert fails and the copy is dropped.
    """

    event_id = models.CharField(max_length=100, unique=True)
    team_id = models.CharField(max_length=50, blank=True)
    event_type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When its job did what the event asked (e.g. greeted); a retry then does not.",
    )

    class Meta:
        indexes = [
            # An assistant thread's latest context is looked up among its few events of these
            # kinds, not among every event ever received.
            models.Index(
                fields=["event_type", "-received_at"],
                condition=models.Q(
                    event_type__in=["assistant_thread_started", "assistant_thread_context_changed"]
                ),
                name="slack_event_assistant_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.event_id
