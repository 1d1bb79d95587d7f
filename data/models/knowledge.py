"""The knowledge base: documentation sources, their documents, and searchable chunks."""

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


class DocumentationSource(models.Model):
    """A tree of documentation ingested under one name (e.g. "handbook")."""

    name = models.CharField(max_length=100, unique=True)
    root = models.CharField(max_length=1000, help_text="Directory the documents were read from.")
    base_url = models.URLField(
        max_length=1000, blank=True, help_text="Links are built as base URL + document path."
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
