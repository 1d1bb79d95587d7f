"""Release notes as they were generated: the Markdown rendered, the numbers beside it."""

from typing import Any, ClassVar

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from data import models
from domain.text import safe_markdown


@admin.register(models.ReleaseNotes)
class ReleaseNotesAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "version_or_ref",
        "repository",
        "range",
        "commit_count",
        "model",
        "posted_channel",
    )
    list_filter = ("model", "created_at")
    search_fields = ("version", "to_ref", "from_ref", "repository", "markdown")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("rendered",)}),
        (
            "Range",
            {"fields": ("repository", ("from_ref", "to_ref"), ("from_sha", "to_sha"), "version")},
        ),
        (
            "Generation",
            {
                "fields": (
                    ("model", "model_calls", "input_tokens", "output_tokens", "duration_ms"),
                    ("commit_count", "counts"),
                    "created_at",
                    ("posted_channel", "posted_at"),
                )
            },
        ),
        ("Markdown source", {"fields": ("markdown",), "classes": ("collapse",)}),
    )

    class Media:
        css: ClassVar[dict[str, tuple[str, ...]]] = {"all": ("chatbot/admin/admin.css",)}

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [
            "rendered",
            *(field.name for field in models.ReleaseNotes._meta.concrete_fields),
        ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="version", ordering="version")
    def version_or_ref(self, notes: models.ReleaseNotes) -> str:
        return notes.version or notes.to_ref

    @admin.display(description="range")
    def range(self, notes: models.ReleaseNotes) -> str:
        return f"{notes.from_ref}..{notes.to_ref}"

    @admin.display(description="release notes")
    def rendered(self, notes: models.ReleaseNotes) -> SafeString:
        # render_html escapes any HTML in the notes, so its output is safe to embed.
        html = mark_safe(safe_markdown.render_html(markdown=notes.markdown))
        return format_html('<div class="qa-answer qa-markdown">{}</div>', html)
