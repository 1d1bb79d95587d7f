"""Release notes generated from a git range, kept for review and re-publication."""

from django.db import models


class ReleaseNotes(models.Model):
    repository = models.CharField(max_length=1000)
    from_ref = models.CharField(max_length=200)
    to_ref = models.CharField(max_length=200)
    from_sha = models.CharField(max_length=40)
    to_sha = models.CharField(max_length=40)
    version = models.CharField(max_length=100, blank=True)
    markdown = models.TextField()
    data = models.JSONField(default=dict, help_text="The structured notes, as --format json.")
    model = models.CharField(max_length=200, help_text='"offline" when no model was used.')
    commit_count = models.PositiveIntegerField()
    counts = models.JSONField(
        default=dict, help_text="Commits listed, merged and skipped, and entries per group."
    )
    model_calls = models.PositiveIntegerField(default=0)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    posted_channel = models.CharField(max_length=50, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "release notes"
        indexes = [models.Index(fields=["created_at", "id"], name="release_notes_created_idx")]
        # docs/architecture.md, "Invariants in the schema". Posting records both at once.
        constraints = [
            models.CheckConstraint(
                condition=models.Q(posted_at__isnull=True, posted_channel="")
                | (models.Q(posted_at__isnull=False) & ~models.Q(posted_channel="")),
                name="release_notes_posted_with_channel",
                violation_error_message=(
                    "Posted release notes name their channel; unposted ones have neither."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"Release notes {self.version or self.to_ref} ({self.from_ref}..{self.to_ref})"
