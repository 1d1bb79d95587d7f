"""Storing prepared documents: one transaction each, or groups of them in big runs.

Every kind of source (folders, web sites, git) stores through here, inside the one write
boundary (``application.writes``), and nothing here awaits inside a transaction. A document
PostgreSQL refuses is reported as :class:`reading.Skipped`; the stored version stays.
"""

import dataclasses
import logging
from collections.abc import Callable

from django.db import DatabaseError, transaction
from django.utils import timezone

from application import writes
from application.knowledge import reading
from domain.knowledge import documents

logger = logging.getLogger(__name__)

# Documents stored per transaction in big runs.
WRITE_GROUP = 25


@dataclasses.dataclass(frozen=True, kw_only=True)
class Item:
    path: str
    url: str
    prepared: reading.Prepared


class Writer:
    """Stores prepared documents: each in its own transaction, or, in big runs, groups of
    ``WRITE_GROUP`` in one (one delete and one insert of their chunks, so the index triggers
    run once per group: about a third less time per document). A group PostgreSQL refuses is
    written again document by document, so only the bad document fails."""

    def __init__(
        self,
        *,
        source_id: int,
        batched: bool,
        counts: dict[str, int],
        failed: Callable[[str, reading.Skipped], None],
    ) -> None:
        self.source_id = source_id
        self.batched = batched
        self.counts = counts
        self.failed = failed
        self.pending: list[Item] = []

    async def add(self, item: Item) -> None:
        if not self.batched:
            await self._one(item)
            return
        self.pending.append(item)
        if len(self.pending) >= WRITE_GROUP:
            await self.flush()

    async def flush(self) -> None:
        group, self.pending = self.pending, []
        if not group:
            return
        try:
            created = await writes.write(_write_documents, source_id=self.source_id, items=group)
        except reading.Skipped:
            for item in group:
                await self._one(item)
            return
        for item, new in zip(group, created, strict=True):
            self._count(item, created=new)

    async def _one(self, item: Item) -> None:
        try:
            created = await writes.write(
                _write_document,
                source_id=self.source_id,
                path=item.path,
                url=item.url,
                prepared=item.prepared,
            )
        except reading.Skipped as skipped:
            self.failed(item.path, skipped)
            return
        self._count(item, created=created)

    def _count(self, item: Item, *, created: bool) -> None:
        self.counts["added" if created else "updated"] += 1
        self.counts["chunks"] += len(item.prepared.chunks)


def _write_documents(*, source_id: int, items: list[Item]) -> list[bool]:
    try:
        with transaction.atomic():
            return documents.save_documents(
                source_id=source_id,
                drafts=[
                    documents.DocumentDraft(
                        path=item.path,
                        title=item.prepared.title,
                        url=item.url,
                        content_hash=item.prepared.content_hash,
                        chunks=item.prepared.chunks,
                        vectors=item.prepared.vectors,
                    )
                    for item in items
                ],
                now=timezone.now(),
            )
    except DatabaseError as error:
        logger.warning("A group of %s documents could not be stored; one by one", len(items))
        raise reading.Skipped(f"could not be stored ({type(error).__name__})") from error


def _write_document(
    *,
    source_id: int,
    path: str,
    url: str,
    prepared: reading.Prepared,
    etag: str = "",
    last_modified: str = "",
    links: list[str] | None = None,
) -> bool:
    try:
        # A savepoint of its own, so one document that cannot be stored rolls back alone.
        with transaction.atomic():
            return documents.save_document(
                source_id=source_id,
                path=path,
                title=prepared.title,
                url=url,
                content_hash=prepared.content_hash,
                chunks=prepared.chunks,
                vectors=prepared.vectors,
                now=timezone.now(),
                etag=etag,
                last_modified=last_modified,
                links=links,
            )
    except DatabaseError as error:
        logger.exception("Could not store %s", path)
        raise reading.Skipped(f"could not be stored ({type(error).__name__})") from error


def _finish(*, source_id: int, gone: list[str], unchanged_urls: dict[str, str]) -> int:
    """Prune, and re-link unchanged documents to a new base URL."""
    removed = documents.delete_documents(source_id=source_id, paths=gone) if gone else 0
    documents.update_urls(source_id=source_id, urls=unchanged_urls)
    return removed


async def store_document(
    *,
    source_id: int,
    path: str,
    url: str,
    prepared: reading.Prepared,
    etag: str = "",
    last_modified: str = "",
    links: list[str] | None = None,
) -> bool:
    """Write one prepared document (True when new); raises :class:`Skipped` if it cannot be."""
    return await writes.write(
        _write_document,
        source_id=source_id,
        path=path,
        url=url,
        prepared=prepared,
        etag=etag,
        last_modified=last_modified,
        links=links,
    )


async def finish(*, source_id: int, gone: list[str], unchanged_urls: dict[str, str]) -> int:
    """Delete the documents that are gone and re-link unchanged ones; how many were removed.

    Nothing more makes the changes searchable: the index follows the chunks by triggers.
    """
    return await writes.write(
        _finish, source_id=source_id, gone=gone, unchanged_urls=unchanged_urls
    )
