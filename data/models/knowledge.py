"""The knowledge base: documentation sources, their documents, and searchable chunks."""

from typing import TypeAlias

from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

# PostgreSQL's default text search configuration, for sources that do not name one.
DEFAULT_LANGUAGE = "english"


class TextSearchConfigField(models.CharField):
    """A PostgreSQL text search configuration (``regconfig``), e.g. ``english`` or ``french``.

    Its own type, not text: ``to_tsvector(regconfig, text)`` is immutable, so a generated
    column may use it, where a cast from text would not be allowed.
    """

    def db_type(self, connection: BaseDatabaseWrapper) -> str:
        return "regconfig"

    def cast_db_type(self, connection: BaseDatabaseWrapper) -> str:
        return "regconfig"


class _SourceKind(models.TextChoices):
    FOLDER = "FOLDER", "Folder"
    WEB = "WEB", "Web site"
    GIT = "GIT", "Git repository"


class _SyncOutcome(models.TextChoices):
    NEVER = "NEVER", "Never synced"
    OK = "OK", "OK"
    PARTIAL = "PARTIAL", "Some pages or files failed"
    FAILED = "FAILED", "Failed"


class DocumentationSource(models.Model):
    """A body of documentation ingested under one name (e.g. "handbook"): a folder, a web site
    or a git repository, synced by hand or on a schedule (docs/knowledge-base.md)."""

    Kind: TypeAlias = _SourceKind  # noqa: UP040
    SyncOutcome: TypeAlias = _SyncOutcome  # noqa: UP040

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=_SourceKind.choices, default=_SourceKind.FOLDER)
    location = models.CharField(
        max_length=2000,
        blank=True,
        help_text=(
            "Web: a sitemap.xml URL, or a start page crawled within its own path. Git: the "
            "repository's URL or path. Folders: the root below."
        ),
    )
    root = models.CharField(
        max_length=1000,
        blank=True,
        help_text="Folders: the directory the documents were read from.",
    )
    git_ref = models.CharField(
        max_length=200, blank=True, default="main", help_text="Git: the branch or tag to follow."
    )
    git_subdir = models.CharField(
        max_length=500, blank=True, help_text="Git: read only this folder of the repository."
    )
    base_url = models.URLField(
        max_length=1000,
        blank=True,
        help_text="Folders: links are built as base URL + document path.",
    )
    url_template = models.CharField(
        max_length=1000,
        blank=True,
        help_text=(
            "Git: the link to a file in the repository's web view, with {path}, {ref} and "
            "{commit}, e.g. https://github.com/acme/docs/blob/{ref}/{path}"
        ),
    )
    schedule = models.CharField(
        max_length=100,
        blank=True,
        help_text='When to sync, as a cron expression ("0 * * * *": every hour); empty: by hand.',
    )
    next_sync_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_sync_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_synced_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_sync_outcome = models.CharField(
        max_length=10, choices=_SyncOutcome.choices, default=_SyncOutcome.NEVER, editable=False
    )
    last_sync_summary = models.TextField(blank=True, editable=False)
    last_sync_pages = models.PositiveIntegerField(
        default=0, editable=False, help_text="Pages or files the last sync found."
    )
    last_sync_errors = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text="What failed in the last sync: a list of {path, reason}.",
    )
    synced_commit = models.CharField(
        max_length=64, blank=True, editable=False, help_text="Git: the last commit synced."
    )
    language = models.CharField(
        max_length=63,
        default=DEFAULT_LANGUAGE,
        help_text=(
            "PostgreSQL text search configuration its documents are indexed and searched with "
            "(english, french, german, simple, ...)."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # docs/architecture.md, "Invariants in the schema".
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=_SourceKind.values),
                name="source_kind_valid",
                violation_error_message="Unknown kind of source.",
            ),
            models.CheckConstraint(
                condition=models.Q(last_sync_outcome__in=_SyncOutcome.values),
                name="source_sync_outcome_valid",
                violation_error_message="Unknown sync outcome.",
            ),
            models.CheckConstraint(
                condition=models.Q(kind=_SourceKind.FOLDER) | ~models.Q(location=""),
                name="source_web_git_have_location",
                violation_error_message="A web or git source needs its location.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Document(models.Model):
    source = models.ForeignKey(
        DocumentationSource, on_delete=models.CASCADE, related_name="documents"
    )
    path = models.CharField(max_length=1000, help_text="Path relative to the source's root.")
    title = models.CharField(max_length=500)
    url = models.CharField(max_length=2000, blank=True)
    content_hash = models.CharField(max_length=64)
    ingested_at = models.DateTimeField()
    # Web pages: the validators of the stored version, sent back as a conditional GET.
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    # Web pages of a crawled site: the in-scope links, so a page that answers 304 Not
    # Modified still leads the crawl on to the pages it links to.
    links = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "path"], name="document_unique_path"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.path}"


class Chunk(models.Model):
    """A section of a document, split at headings, that search returns and answers cite."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    position = models.PositiveIntegerField()
    heading_path = models.TextField(
        blank=True, help_text='Headings above this chunk, e.g. "Models > Managers".'
    )
    anchor = models.CharField(max_length=500, blank=True)
    text = models.TextField()
    language = TextSearchConfigField(
        max_length=63,
        default=DEFAULT_LANGUAGE,
        editable=False,  # the source's, copied when the chunk is written
        help_text="Text search configuration of its source, which its search vector is built with.",
    )
    search_vector = models.GeneratedField(
        expression=SearchVector("heading_path", weight="A", config=models.F("language"))
        + SearchVector("text", weight="B", config=models.F("language")),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    embedding = models.BinaryField(
        null=True,
        editable=False,
        help_text="The section's semantic vector (256 float32, little-endian).",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["document", "position"], name="chunk_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.document_id}#{self.position}"
