"""Ingest documentation files into the knowledge base, incrementally.

A file whose content hash is unchanged is skipped without being parsed, so re-running over an
unchanged tree costs little more than reading it. A changed file is parsed and re-chunked, and
its document and chunks are replaced in one atomic block; with ``prune``, documents whose file
is gone are deleted. A file that cannot be read, decoded, parsed or stored is reported and
skipped: the run goes on, and the stored version of that document (if any) stays as it was.

Ingestion never leaves its root: a symbolic link whose target lies outside it is reported and
skipped (and, with ``prune``, its document is deleted), so a link in a docs tree cannot put
``/etc/passwd`` or another team's files into answers. All file-system work (the walk, reading,
parsing) runs in threads, off the event loop the worker shares with every job in flight.
"""

import asyncio
import dataclasses
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from application import writes
from application.knowledge import reading, storing
from domain.knowledge import documents, markup

logger = logging.getLogger(__name__)


class PathNotFound(Exception):
    """A path given to ingest does not exist."""


class UnknownLanguage(Exception):
    """PostgreSQL has no text search configuration of that name."""


class PathOutsideSource(Exception):
    """A path given to ingest lies outside the stored root of the existing source."""


class Progress(Protocol):
    """Where the caller hears about the run as it goes (a progress bar, a log)."""

    def started(self, *, total: int) -> None: ...

    def advanced(self, *, path: str) -> None: ...

    def failed(self, *, path: str, reason: str) -> None: ...


@dataclasses.dataclass(frozen=True, kw_only=True)
class Failure:
    path: str
    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class IngestionReport:
    added: int
    updated: int
    unchanged: int
    removed: int
    failures: list[Failure]
    chunks: int  # chunks written for added and updated documents
    seconds: float

    def summary(self) -> str:
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.removed} removed, {len(self.failures)} failed documents; "
            f"{self.chunks} chunks written in {self.seconds:.1f} s"
        )


async def ingest(
    *,
    paths: Sequence[Path],
    source: str,
    base_url: str | None = None,
    language: str | None = None,
    prune: bool = False,
    move: bool = False,
    progress: Progress | None = None,
) -> IngestionReport:
    """Bring the source's stored documents in line with the files under ``paths``.

    A new source is rooted at the common directory of ``paths``. An existing source keeps its
    root, so a file or subfolder of it can be ingested on its own: documents are named relative
    to the stored root, and ``prune`` deletes only documents under the given paths. A path
    outside the stored root is refused unless ``move`` re-roots the source at the paths' common
    directory. ``base_url`` None keeps the source's stored base URL; '' removes the links.
    ``language`` (a PostgreSQL text search configuration) None keeps the stored one; a new one
    re-indexes the source's sections with it.
    """
    started = time.perf_counter()
    existing = await documents.find_source(name=source)
    # The walk of a large tree takes seconds: a thread, so the loop keeps serving other jobs.
    resolved, root, files = await asyncio.to_thread(
        _scan, paths=paths, existing=existing, move=move
    )
    if base_url is None:
        base_url = existing.base_url if existing else ""
    scopes = [path.relative_to(root).as_posix() for path in resolved]
    if progress:
        progress.started(total=len(files))
    stored = await documents.stored_documents(source_name=source)
    source_id = await writes.write(
        _save_source, name=source, root=str(root), base_url=base_url, language=language
    )
    counts = {"added": 0, "updated": 0, "unchanged": 0, "chunks": 0}
    failures: list[Failure] = []
    unchanged_urls: dict[str, str] = {}
    outside: set[str] = set()  # links out of the root: their documents go with --prune

    def failed(path: str, skipped: reading.Skipped) -> None:
        if isinstance(skipped, reading.OutsideRoot):
            outside.add(path)
        failures.append(Failure(path=path, reason=str(skipped)))
        if progress:
            progress.failed(path=path, reason=str(skipped))

    relatives = [file.relative_to(root).as_posix() for file in files]
    # Reading and hashing every file is quick (threads); parsing only the changed ones is
    # the slow part, spread over worker processes when there are many.
    read = await asyncio.to_thread(
        reading.read_all,
        files=files,
        root=root,
        paths=relatives,
        previous={path: document.content_hash for path, document in stored.items()},
    )
    changed = sum(isinstance(r, reading.Read) for r in read)
    writer = storing.Writer(
        source_id=source_id, batched=changed >= reading.PARALLEL_FROM, counts=counts, failed=failed
    )
    async with reading.parsers(changed=changed) as parse:
        parsing = [
            parse(outcome) if isinstance(outcome, reading.Read) else None for outcome in read
        ]
        for relative, outcome, parsed in zip(relatives, read, parsing, strict=True):
            url = documents.url_for(base_url=base_url, path=relative)
            try:
                if isinstance(outcome, reading.Skipped):
                    raise outcome
                if parsed is None:
                    counts["unchanged"] += 1
                    unchanged_urls[relative] = url
                else:
                    await writer.add(storing.Item(path=relative, url=url, prepared=await parsed))
            except reading.Skipped as skipped:
                failed(relative, skipped)
            if progress:
                progress.advanced(path=relative)
        await writer.flush()
    on_disk = {file.relative_to(root).as_posix() for file in files} - outside
    gone = (
        sorted(path for path in stored if path not in on_disk and _within(path, scopes))
        if prune
        else []
    )
    removed = await storing.finish(source_id=source_id, gone=gone, unchanged_urls=unchanged_urls)
    return IngestionReport(
        added=counts["added"],
        updated=counts["updated"],
        unchanged=counts["unchanged"],
        removed=removed,
        failures=failures,
        chunks=counts["chunks"],
        seconds=time.perf_counter() - started,
    )


def _scan(
    *, paths: Sequence[Path], existing: documents.Source | None, move: bool
) -> tuple[list[Path], Path, list[Path]]:
    """The given paths resolved, the source's root, and the files to ingest (file system only)."""
    resolved = _resolve(paths)
    root = _root(resolved=resolved, given=paths, existing=existing, move=move)
    return resolved, root, _collect(resolved)


def _resolve(paths: Sequence[Path]) -> list[Path]:
    if not paths:
        raise PathNotFound("no path given")
    resolved = [path.resolve() for path in paths]
    for path, given in zip(resolved, paths, strict=True):
        if not path.exists():
            raise PathNotFound(str(given))
    return resolved


def _root(
    *,
    resolved: list[Path],
    given: Sequence[Path],
    existing: documents.Source | None,
    move: bool,
) -> Path:
    """The directory document paths are relative to: the stored one, unless there is none yet
    or the source is being moved (then the common directory of the given paths)."""
    if existing is not None and not move:
        stored = Path(existing.root)
        for path, name in zip(resolved, given, strict=True):
            if not path.is_relative_to(stored):
                raise PathOutsideSource(
                    f"{name} is outside the root of source {existing.name!r} ({stored})"
                )
        return stored
    return Path(os.path.commonpath([p if p.is_dir() else p.parent for p in resolved]))


def _within(path: str, scopes: list[str]) -> bool:
    """Whether a document path lies under one of the given paths (relative to the root)."""
    return any(scope == "." or path == scope or path.startswith(scope + "/") for scope in scopes)


def _collect(resolved: list[Path]) -> list[Path]:
    """Every documentation file under ``resolved``, sorted."""
    files: set[Path] = set()
    for path in resolved:
        if path.is_file():
            files.add(path)
            continue
        for candidate in path.rglob("*"):
            relative = candidate.relative_to(path).parts
            if any(part.startswith((".", "_")) for part in relative[:-1]) or relative[
                -1
            ].startswith("."):
                continue  # hidden (.git) and build or theme directories (_build, _static)
            if candidate.suffix.lower() in markup.SUFFIXES and candidate.is_file():
                files.add(candidate)
    return sorted(files)


def _save_source(*, name: str, root: str, base_url: str, language: str | None) -> int:
    if language is not None:
        known = documents.text_search_languages()
        if language not in known:
            raise UnknownLanguage(f"{language!r} (PostgreSQL knows: {', '.join(known)})")
    return documents.save_source(name=name, root=root, base_url=base_url, language=language)


async def reingest_source(*, source_id: int) -> IngestionReport:
    """Ingest a stored source again from its root, pruning files that are gone (admin action)."""
    source = await documents.get_source(source_id=source_id)
    report = await ingest(
        paths=[Path(source.root)], source=source.name, base_url=source.base_url, prune=True
    )
    logger.info(
        "Re-ingested %s: %s added, %s updated, %s unchanged, %s removed, %s skipped",
        source.name,
        report.added,
        report.updated,
        report.unchanged,
        report.removed,
        len(report.failures),
    )
    return report
