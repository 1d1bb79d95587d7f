"""The knowledge base: sources (with a re-ingest action), documents with chunk counts, chunks.

Documents and chunks are written by ingestion only, so they are read-only here.
"""

from typing import Any, ClassVar

from django.contrib import admin, messages
from django.db.models import Count, Max, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.text import Truncator

from data import models


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(models.DocumentationSource)
class DocumentationSourceAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "root",
        "base_url",
        "language",
        "document_count",
        "chunk_count",
        "last_ingested_at",
    )
    search_fields = ("name", "root")
    ordering = ("name", "pk")
    # The language is changed by ingesting with --language, which re-indexes the sections.
    readonly_fields = ("language", "created_at")
    actions = ("reingest",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[models.DocumentationSource]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                document_count=Count("documents", distinct=True),
                chunk_count=Count("documents__chunks"),
                last_ingested_at=Max("documents__ingested_at"),
            )
        )

    @admin.display(description="documents", ordering="document_count")
    def document_count(self, source: models.DocumentationSource) -> int:
        return source.document_count  # type: ignore[attr-defined]

    @admin.display(description="chunks", ordering="chunk_count")
    def chunk_count(self, source: models.DocumentationSource) -> int:
        return source.chunk_count  # type: ignore[attr-defined]

    @admin.display(description="last ingested", ordering="last_ingested_at")
    def last_ingested_at(self, source: models.DocumentationSource) -> Any:
        return source.last_ingested_at  # type: ignore[attr-defined]

    @admin.action(description="Re-ingest selected sources", permissions=["change"])
    def reingest(
        self, request: HttpRequest, queryset: QuerySet[models.DocumentationSource]
    ) -> None:
        from chatbot import tasks

        source_ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        tasks.queue_reingest(source_ids)
        self.message_user(
            request, f"Queued {len(source_ids)} source(s) for re-ingestion.", messages.SUCCESS
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
