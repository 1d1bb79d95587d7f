"""The knowledge base: sources (kinds, schedules, sync status, a "sync now" action), documents
with chunk counts, chunks.

Documents and chunks are written by ingestion only, so they are read-only here.
"""

from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from data import models
from domain.knowledge import sources


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DocumentationSourceForm(forms.ModelForm):
    """What each kind of source needs, checked before it is saved."""

    class Meta:
        model = models.DocumentationSource
        fields = (
            "name",
            "kind",
            "location",
            "root",
            "git_ref",
            "git_subdir",
            "base_url",
            "url_template",
            "schedule",
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, location = data.get("kind"), (data.get("location") or "").strip()
        kinds = models.DocumentationSource.Kind
        if kind == kinds.WEB:
            try:
                URLValidator(schemes=["http", "https"])(location)
            except ValidationError:
                self.add_error("location", "A web source needs an http(s) URL.")
        elif kind == kinds.GIT:
            if not location or location.startswith("-"):
                self.add_error("location", "A git source needs the repository's URL or path.")
            if not (data.get("git_ref") or "").strip():
                self.add_error("git_ref", "A git source follows a branch or tag.")
        elif kind == kinds.FOLDER and not (data.get("root") or "").strip():
            self.add_error("root", "A folder source needs its directory.")
        problem = sources.schedule_error(data.get("schedule") or "")
        if problem:
            self.add_error("schedule", problem)
        return data


@admin.register(models.DocumentationSource)
class DocumentationSourceAdmin(admin.ModelAdmin):
    form = DocumentationSourceForm
    list_display = (
        "name",
        "kind",
        "where",
        "language",
        "last_sync_outcome",
        "last_synced_at",
        "next_sync_at",
        "document_count",
        "chunk_count",
    )
    list_filter = ("kind", "last_sync_outcome")
    search_fields = ("name", "root", "location")
    ordering = ("name", "pk")
    # The language is changed by ingesting with --language, which re-indexes the sections.
    readonly_fields = (
        "language",
        "created_at",
        "last_sync_outcome",
        "last_sync_started_at",
        "last_synced_at",
        "next_sync_at",
        "last_sync_pages",
        "last_sync_summary",
        "sync_failures",
        "synced_commit",
    )
    fieldsets = (
        (None, {"fields": ("name", "kind", "location", "root", "schedule", "language")}),
        ("Git", {"fields": ("git_ref", "git_subdir", "url_template")}),
        ("Links", {"fields": ("base_url",)}),
        ("Status", {"fields": readonly_fields[1:]}),
    )
    actions = ("reingest",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[models.DocumentationSource]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                document_count=Count("documents", distinct=True),
                chunk_count=Count("documents__chunks"),
            )
        )

    def save_model(
        self, request: HttpRequest, obj: models.DocumentationSource, form: Any, change: bool
    ) -> None:
        if not change or "schedule" in form.changed_data:
            obj.next_sync_at = sources.next_run(schedule=obj.schedule, now=timezone.now())
        super().save_model(request, obj, form, change)

    @admin.display(description="location", ordering="location")
    def where(self, source: models.DocumentationSource) -> str:
        if source.kind == models.DocumentationSource.Kind.GIT:
            subdir = f" /{source.git_subdir}" if source.git_subdir else ""
            return f"{source.location} @ {source.git_ref}{subdir}"
        return source.location or source.root

    @admin.display(description="documents", ordering="document_count")
    def document_count(self, source: models.DocumentationSource) -> int:
        return source.document_count  # type: ignore[attr-defined]

    @admin.display(description="chunks", ordering="chunk_count")
    def chunk_count(self, source: models.DocumentationSource) -> int:
        return source.chunk_count  # type: ignore[attr-defined]

    @admin.display(description="what failed in the last sync")
    def sync_failures(self, source: models.DocumentationSource) -> str:
        errors = source.last_sync_errors if isinstance(source.last_sync_errors, list) else []
        if not errors:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><code>{}</code>: {}</li>",
                (
                    (error.get("path") or "(the source)", error.get("reason", ""))
                    for error in errors
                    if isinstance(error, dict)
                ),
            ),
        )

    @admin.action(description="Sync selected sources now", permissions=["change"])
    def reingest(
        self, request: HttpRequest, queryset: QuerySet[models.DocumentationSource]
    ) -> None:
        from chatbot import tasks

        source_ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        tasks.queue_reingest(source_ids)
        self.message_user(
            request, f"Queued {len(source_ids)} source(s) for a sync.", messages.SUCCESS
        )


class ChunkInline(admin.TabularInline):
    model = models.Chunk
    extra = 0
    can_delete = False
    fields = ("position", "heading_path", "anchor", "excerpt")
    readonly_fields = fields
    ordering = ("position", "pk")
    classes = ("compact-inline",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[models.Chunk]:
        return super().get_queryset(request).defer("search_vector")

    @admin.display(description="text")
    def excerpt(self, chunk: models.Chunk) -> str:
        return Truncator(chunk.text).chars(300)


@admin.register(models.Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ("title", "source", "path", "chunk_count", "ingested_at", "link")
    list_filter = ("source", "ingested_at")
    search_fields = ("title", "path")
    list_select_related = ("source",)
    ordering = ("source__name", "path", "pk")
    show_full_result_count = False
    inlines = (ChunkInline,)

    class Media:
        css: ClassVar[dict[str, tuple[str, ...]]] = {"all": ("chatbot/admin/admin.css",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[models.Document]:
        return super().get_queryset(request).annotate(chunk_count=Count("chunks"))

    @admin.display(description="chunks", ordering="chunk_count")
    def chunk_count(self, document: models.Document) -> int:
        return document.chunk_count  # type: ignore[attr-defined]

    @admin.display(description="link")
    def link(self, document: models.Document) -> str:
        if not document.url.startswith(("https://", "http://")):
            return "—"
        return format_html('<a href="{}" target="_blank" rel="noopener">open</a>', document.url)


@admin.register(models.Chunk)
class ChunkAdmin(ReadOnlyAdmin):
    list_display = ("document", "position", "heading_path", "excerpt")
    list_filter = ("document__source",)
    search_fields = ("text", "heading_path", "document__title")
    list_select_related = ("document",)
    ordering = ("document_id", "position", "pk")
    show_full_result_count = False
    exclude = ("search_vector",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[models.Chunk]:
        return super().get_queryset(request).defer("search_vector")

    @admin.display(description="text")
    def excerpt(self, chunk: models.Chunk) -> str:
        return Truncator(chunk.text).chars(120)
