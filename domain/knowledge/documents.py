"""Stored documentation: what is already ingested, and the writes that change it.

The writes are sync and expect to run inside the caller's atomic block, one document at a time,
so a failure never leaves a document half-written.

Search's term statistics follow the chunks by themselves (triggers, migration
``0020_knowledge_incremental_index``): a document is searchable, with its new statistics, the
moment its transaction commits. Each chunk is stored with its semantic vector
(``embeddings``), computed here unless the caller computed it already (in parallel, at ingest).
"""

import dataclasses
import datetime as dt
from pathlib import PurePosixPath

from django.db import connection
from django.db.models import Count

from data import models
from domain.knowledge import chunking


@dataclasses.dataclass(frozen=True, kw_only=True)
class StoredDocument:
    path: str
    content_hash: str
    url: str = ""
    etag: str = ""
    last_modified: str = ""
    links: tuple[str, ...] = ()


async def stored_documents(*, source_name: str) -> dict[str, StoredDocument]:
    """The documents of a source by path (none when the source does not exist yet)."""
    rows = (
        models.Document.objects.filter(source__name=source_name)
        .order_by("path", "id")
        .values_list("path", "content_hash", "url", "etag", "last_modified", "links")
    )
    return {
        path: StoredDocument(
            path=path,
            content_hash=content_hash,
            url=url,
            etag=etag,
            last_modified=modified,
            links=tuple(links) if isinstance(links, list) else (),
        )
        async for path, content_hash, url, etag, modified, links in rows
    }


async def prominent_titles(*, limit: int) -> list[str]:
    """Titles of the documents answers cite most, then of the largest: what the knowledge
    base is mostly about, one title each (the guide's index and a handbook's may share one)."""
    rows = (
        models.Document.objects.exclude(title="")
        .annotate(
            cited=Count("chunks__citations", distinct=True),
            size=Count("chunks", distinct=True),
        )
        .order_by("-cited", "-size", "title", "id")
        .values_list("title", flat=True)
    )
    titles: list[str] = []
    async for title in rows[: limit * 4]:
        if title not in titles:
            titles.append(title)
        if len(titles) == limit:
            break
    return titles


def update_validators(
    *, source_id: int, path: str, etag: str, last_modified: str, links: list[str]
) -> None:
    """Keep a web page's new validators (and links) when its content came back unchanged."""
    models.Document.objects.filter(source_id=source_id, path=path).update(
        etag=etag[:500], last_modified=last_modified[:100], links=links
    )


def url_for(*, base_url: str, path: str) -> str:
    """The link to a document: '' without a base URL.

    reStructuredText is linked the way Sphinx's ``dirhtml`` builder publishes it (Django's site
    does): ``topics/db/managers.txt`` becomes ``topics/db/managers/``, an ``index`` its
    directory. Markdown and HTML files are linked by their path.
    """
    if not base_url:
        return ""
    base = base_url if base_url.endswith("/") else base_url + "/"
    posix = PurePosixPath(path)
    if posix.suffix.lower() not in {".rst", ".txt"}:
        return base + path
    stem = posix.with_suffix("")
    if stem.name == "index":
        stem = stem.parent
    return base if str(stem) == "." else f"{base}{stem}/"


def save_source(*, name: str, root: str, base_url: str, language: str | None = None) -> int:
    """Create or update the source; return its id.

    ``language`` None keeps the stored one (``english`` for a new source). A new language
    re-indexes the source's chunks with it (their search vectors are rebuilt, and the term
    statistics follow by trigger).
    """
    source, created = models.DocumentationSource.objects.get_or_create(
        name=name,
        defaults={
            "root": root,
            "base_url": base_url,
            "language": language or models.DEFAULT_LANGUAGE,
        },
    )
    if not created:
        changed = language is not None and language != source.language
        source.root, source.base_url = root, base_url
        if changed:
            source.language = language or models.DEFAULT_LANGUAGE
        source.save(update_fields=["root", "base_url", "language"])
        if changed:
            models.Chunk.objects.filter(document__source=source).update(language=source.language)
    return source.pk


def text_search_languages() -> list[str]:
    """The text search configurations PostgreSQL knows (``--language`` choices)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT cfgname FROM pg_ts_config ORDER BY cfgname")
        return [row[0] for row in cursor.fetchall()]


@dataclasses.dataclass(frozen=True, kw_only=True)
class DocumentDraft:
    path: str
    title: str
    url: str
    content_hash: str
    chunks: list[chunking.ChunkDraft]
    vectors: list[bytes] | None = None  # the chunks' embeddings, in order; computed if None
    # A web page's validators, for the next conditional GET, and the pages it links to.
    etag: str = ""
    last_modified: str = ""
    links: list[str] = dataclasses.field(default_factory=list)


def save_document(
    *,
    source_id: int,
    path: str,
    title: str,
    url: str,
    content_hash: str,
    chunks: list[chunking.ChunkDraft],
    now: dt.datetime,
    vectors: list[bytes] | None = None,
    etag: str = "",
    last_modified: str = "",
    links: list[str] | None = None,
) -> bool:
    """Replace a document and all its chunks; return True when it was new.

    ``etag`` and ``last_modified`` are a web page's validators, for the next conditional GET;
    ``links`` the pages a crawled page links to.
    """
    [created] = save_documents(
        source_id=source_id,
        drafts=[
            DocumentDraft(
                path=path,
                title=title,
                url=url,
                content_hash=content_hash,
                chunks=chunks,
                vectors=vectors,
                etag=etag,
                last_modified=last_modified,
                links=links or [],
            )
        ],
        now=now,
    )
    return created


def save_documents(*, source_id: int, drafts: list[DocumentDraft], now: dt.datetime) -> list[bool]:
    """Replace documents and all their chunks; return, for each, whether it was new.

    One delete of their old chunks and one insert of the new ones, however many documents:
    the search index's triggers run once per statement.
    """
    language = models.DocumentationSource.objects.values_list("language", flat=True).get(
        pk=source_id
    )
    existing = dict(
        models.Document.objects.filter(
            source_id=source_id, path__in=[draft.path for draft in drafts]
        ).values_list("path", "id")
    )
    for draft in drafts:
        if draft.path in existing:
            models.Document.objects.filter(pk=existing[draft.path]).update(
                title=draft.title,
                url=draft.url,
                content_hash=draft.content_hash,
                ingested_at=now,
                etag=draft.etag[:500],
                last_modified=draft.last_modified[:100],
                links=draft.links,
            )
    added = models.Document.objects.bulk_create(
        models.Document(
            source_id=source_id,
            path=draft.path,
            title=draft.title,
            url=draft.url,
            content_hash=draft.content_hash,
            ingested_at=now,
            etag=draft.etag[:500],
            last_modified=draft.last_modified[:100],
            links=draft.links,
        )
        for draft in drafts
        if draft.path not in existing
    )
    ids = existing | {document.path: document.pk for document in added}
    if existing:
        models.Chunk.objects.filter(document_id__in=list(existing.values())).delete()
    anchor_length = models.Chunk._meta.get_field("anchor").max_length
    models.Chunk.objects.bulk_create(
        models.Chunk(
            document_id=ids[draft.path],
            position=chunk.position,
            heading_path=chunk.heading_path,
            anchor=chunk.anchor[:anchor_length],
            text=chunk.text,
            language=language,
            embedding=vector,
        )
        for draft in drafts
        for chunk, vector in zip(
            draft.chunks,
            draft.vectors if draft.vectors is not None else chunk_vectors(chunks=draft.chunks),
            strict=True,
        )
    )
    return [draft.path not in existing for draft in drafts]


def chunk_vectors(*, chunks: list[chunking.ChunkDraft]) -> list[bytes]:
    """The chunks' semantic vectors, as stored."""
    # numpy and the model only where vectors are made: listing, reading and the admin do
    # without them (docs/architecture.md, Start-up).
    from domain.knowledge import embeddings

    matrix = embeddings.embed(
        texts=[
            embeddings.section_text(heading_path=chunk.heading_path, text=chunk.text)
            for chunk in chunks
        ]
    )
    return [embeddings.to_bytes(row) for row in matrix]


def update_urls(*, source_id: int, urls: dict[str, str]) -> None:
    """Give unchanged documents the links of a new base URL."""
    for document in models.Document.objects.filter(source_id=source_id, path__in=list(urls)):
        if document.url != urls[document.path]:
            document.url = urls[document.path]
            document.save(update_fields=["url"])


def delete_documents(*, source_id: int, paths: list[str]) -> int:
    """Delete the source's documents at these paths (their chunks go with them)."""
    _total, by_model = models.Document.objects.filter(source_id=source_id, path__in=paths).delete()
    return by_model.get(models.Document._meta.label, 0)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Source:
    id: int
    name: str
    root: str
    base_url: str
    language: str


class SourceNotFound(Exception):
    """No documentation source has that id."""


async def find_source(*, name: str) -> Source | None:
    """The source of that name, or None when nothing was ingested under it yet."""
    row = await models.DocumentationSource.objects.filter(name=name).afirst()
    return None if row is None else _source(row)


async def get_source(*, source_id: int) -> Source:
    try:
        row = await models.DocumentationSource.objects.aget(pk=source_id)
    except models.DocumentationSource.DoesNotExist as error:
        raise SourceNotFound(f"no documentation source with id {source_id}") from error
    return _source(row)


def _source(row: models.DocumentationSource) -> Source:
    return Source(
        id=row.pk, name=row.name, root=row.root, base_url=row.base_url, language=row.language
    )
