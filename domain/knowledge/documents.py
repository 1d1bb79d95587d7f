"""Stored documentation: what is already ingested, and the writes that change it.

The writes are sync and expect to run inside the caller's atomic block, one document at a time,
so a failure never leaves a document half-written.

Search reads materialized views of the chunks, which only a refresh brings up to date. Every
write that changes chunks also marks its source (``index_refresh_requested_at``) in the same
transaction, and only a refresh that includes the change clears the mark, so a run that dies
between writing and refreshing leaves a durable reminder for the next one.
"""

import dataclasses
import datetime as dt
from pathlib import PurePosixPath

from django.db import connection
from django.db.models import Count

from data import models
from domain import database
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


def save_source(*, name: str, root: str, base_url: str) -> int:
    """Create or update the source; return its id."""
    source, _created = models.DocumentationSource.objects.update_or_create(
        name=name, defaults={"root": root, "base_url": base_url}
    )
    return source.pk


def save_document(
    *,
    source_id: int,
    path: str,
    title: str,
    url: str,
    content_hash: str,
    chunks: list[chunking.ChunkDraft],
    now: dt.datetime,
    etag: str = "",
    last_modified: str = "",
    links: list[str] | None = None,
) -> bool:
    """Replace a document and all its chunks; return True when it was new.

    ``etag`` and ``last_modified`` are a web page's validators, for the next conditional GET;
    ``links`` the pages a crawled page links to.
    """
    document, created = models.Document.objects.update_or_create(
        source_id=source_id,
        path=path,
        defaults={
            "title": title,
            "url": url,
            "content_hash": content_hash,
            "ingested_at": now,
            "etag": etag[:500],
            "last_modified": last_modified[:100],
            "links": links or [],
        },
    )
    if not created:
        models.Chunk.objects.filter(document=document).delete()
    models.Chunk.objects.bulk_create(
        models.Chunk(
            document=document,
            position=chunk.position,
            heading_path=chunk.heading_path,
            anchor=chunk.anchor[: models.Chunk._meta.get_field("anchor").max_length],
            text=chunk.text,
        )
        for chunk in chunks
    )
    _request_refresh(source_id=source_id, now=now)
    return created


def update_urls(*, source_id: int, urls: dict[str, str]) -> None:
    """Give unchanged documents the links of a new base URL."""
    for document in models.Document.objects.filter(source_id=source_id, path__in=list(urls)):
        if document.url != urls[document.path]:
            document.url = urls[document.path]
            document.save(update_fields=["url"])


def delete_documents(*, source_id: int, paths: list[str], now: dt.datetime) -> int:
    """Delete the source's documents at these paths (their chunks go with them)."""
    _total, by_model = models.Document.objects.filter(source_id=source_id, path__in=paths).delete()
    removed = by_model.get(models.Document._meta.label, 0)
    if removed:
        _request_refresh(source_id=source_id, now=now)
    return removed


def _request_refresh(*, source_id: int, now: dt.datetime) -> None:
    """Mark the source's chunks as changed since search's views were last refreshed.

    Written last in the document's transaction, so the source row stays locked only briefly.
    """
    models.DocumentationSource.objects.filter(pk=source_id).update(index_refresh_requested_at=now)


def search_statistics_outdated() -> bool:
    """Whether a committed change (by any source, any run) is not yet in search's views."""
    return models.DocumentationSource.objects.filter(
        index_refresh_requested_at__isnull=False
    ).exists()


def refresh_search_statistics() -> None:
    """Recompute the postings and lexicons search reads (migrations 0002 and 0003, knowledge_*).

    Run after the chunks change, outside a transaction. ``CONCURRENTLY`` lets searches keep
    reading the old rows meanwhile; the vacuum afterwards keeps the postings' index-only scans
    from visiting the table.

    The refresh marks are read before the views are refreshed, so every change they stand for
    was committed before the refresh started and is included. A mark is cleared only if it still
    holds the value read: a write committed meanwhile has set a new one, which stays for the
    next refresh.
    """
    requested = list(
        models.DocumentationSource.objects.filter(index_refresh_requested_at__isnull=False)
        .order_by("pk")
        .values_list("pk", "index_refresh_requested_at")
    )
    # Minutes on a large corpus (README, Knowledge base): more than a query may usually take.
    with database.without_statement_timeout() as cursor:
        for view in ("knowledge_postings", "knowledge_term_stats", "knowledge_word_stats"):
            cursor.execute(f"REFRESH MATERIALIZED VIEW CONCURRENTLY {view}")
        if not connection.in_atomic_block:
            cursor.execute("VACUUM (ANALYZE) knowledge_postings")
    for source_id, requested_at in requested:
        models.DocumentationSource.objects.filter(
            pk=source_id, index_refresh_requested_at=requested_at
        ).update(index_refresh_requested_at=None)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Source:
    id: int
    name: str
    root: str
    base_url: str


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
    return Source(id=row.pk, name=row.name, root=row.root, base_url=row.base_url)
