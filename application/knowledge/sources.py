"""Sync a documentation source of any kind, on demand or on its schedule, and record how it went.

A folder is re-read from its root (``ingestion``), a web site page by page (``web_sync``), a git
repository commit by commit (``git_sync``). Every sync stores its outcome on the source (last
sync, pages, what failed, the next run), which the admin shows. A source that cannot be read at
all is a FAILED sync that changed nothing: its documents stay searchable as they were.
"""

import dataclasses
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from django.utils import timezone

from application import writes
from application.knowledge import git_sync, ingestion, web_sync
from domain.knowledge import documents, sources

logger = logging.getLogger(__name__)

Kind = sources.Kind
KindMismatch = sources.KindMismatch
schedule_error = sources.schedule_error
SourceNotFound = documents.SourceNotFound


@dataclasses.dataclass(frozen=True, kw_only=True)
class SyncReport:
    source: str
    report: ingestion.IngestionReport | None  # None: the source could not be read
    error: str = ""  # why the source as a whole could not be synced

    @property
    def outcome(self) -> str:
        if self.report is None:
            return sources.Outcome.FAILED
        return sources.Outcome.PARTIAL if self.report.failures else sources.Outcome.OK

    def summary(self) -> str:
        if self.report is None:
            return f"not synced, nothing changed: {self.error}"
        return self.report.summary()


async def sync(*, source_id: int, progress: ingestion.Progress | None = None) -> SyncReport:
    """Sync one stored source (the admin's "sync now", the scheduler's jobs)."""
    target = await sources.get(source_id=source_id)
    await writes.write(sources.sync_started, source_id=target.id, now=timezone.now())
    commit: str | None = None
    try:
        if target.kind == Kind.WEB:
            result = SyncReport(
                source=target.name, report=await web_sync.sync(source=target, progress=progress)
            )
        elif target.kind == Kind.GIT:
            report, commit = await git_sync.sync(source=target, progress=progress)
            result = SyncReport(source=target.name, report=report)
        else:
            result = await _sync_folder(target=target, progress=progress)
    except (web_sync.SiteUnavailable, git_sync.RepositoryUnavailable) as error:
        result = SyncReport(source=target.name, report=None, error=str(error))
    except Exception as error:
        # A bug or a database outage: recorded on the source, then raised for the job's retry.
        await _record(
            target=target,
            result=SyncReport(
                source=target.name, report=None, error=f"unexpected error ({type(error).__name__})"
            ),
            commit=None,
        )
        raise
    await _record(target=target, result=result, commit=commit)
    logger.info("Synced source %s: %s", target.name, result.summary())
    return result


async def _sync_folder(
    *, target: sources.SyncTarget, progress: ingestion.Progress | None
) -> SyncReport:
    if not target.root:
        return SyncReport(source=target.name, report=None, error="the folder source has no root")
    try:
        report = await ingestion.ingest(
            paths=[Path(target.root)],
            source=target.name,
            base_url=target.base_url,
            prune=True,
            progress=progress,
        )
    except ingestion.PathNotFound as error:
        return SyncReport(source=target.name, report=None, error=f"no such folder: {error}")
    return SyncReport(source=target.name, report=report)


async def _record(*, target: sources.SyncTarget, result: SyncReport, commit: str | None) -> None:
    report = result.report
    failures = [sources.SyncFailure(path="", reason=result.error)] if result.error else []
    if report is not None:
        failures += [
            sources.SyncFailure(path=failure.path, reason=failure.reason)
            for failure in report.failures
        ]
    pages = (
        report.added + report.updated + report.unchanged + len(report.failures)
        if report is not None
        else 0
    )
    await writes.write(
        sources.sync_finished,
        source_id=target.id,
        now=timezone.now(),
        outcome=result.outcome,
        summary=result.summary(),
        pages=pages,
        failures=failures,
        commit=commit,
    )


async def add_and_sync(
    *,
    name: str,
    kind: str,
    location: str,
    git_ref: str = "main",
    git_subdir: str = "",
    url_template: str | None = None,
    schedule: str | None = None,
    progress: ingestion.Progress | None = None,
) -> SyncReport:
    """Create or update a web or git source (``manage.py ingest_docs URL`` or ``--git``), then
    sync it. Raises :class:`KindMismatch` when the name belongs to another kind of source."""
    source_id = await writes.write(
        sources.save_remote,
        name=name,
        kind=kind,
        location=location,
        git_ref=git_ref,
        git_subdir=git_subdir.strip("/"),
        url_template=url_template,
        schedule=schedule,
        now=timezone.now(),
    )
    return await sync(source_id=source_id, progress=progress)


async def ingest_folder(
    *,
    paths: Sequence[Path],
    source: str,
    base_url: str | None = None,
    language: str | None = None,
    prune: bool = False,
    move: bool = False,
    schedule: str | None = None,
    progress: ingestion.Progress | None = None,
) -> ingestion.IngestionReport:
    """``ingestion.ingest`` from the command line, recorded on the source like any sync;
    ``schedule`` (a cron expression, '' for none) has it re-read from its root on a schedule;
    ``language`` (a text search configuration) changes how the source is indexed.
    Raises :class:`KindMismatch` when the name belongs to a web or git source."""
    existing = await sources.find(name=source)
    if existing is not None and existing.kind != Kind.FOLDER:
        raise KindMismatch(
            f"source {source!r} is a {Kind(existing.kind).label.lower()} source, not a folder"
        )
    report = await ingestion.ingest(
        paths=paths,
        source=source,
        base_url=base_url,
        language=language,
        prune=prune,
        move=move,
        progress=progress,
    )
    target = await sources.find(name=source)
    if target is not None:
        if schedule is not None:
            await writes.write(
                sources.set_schedule, source_id=target.id, schedule=schedule, now=timezone.now()
            )
        await _record(
            target=target, result=SyncReport(source=target.name, report=report), commit=None
        )
    return report


async def queue_scheduled(*, queue: Callable[[list[int]], None]) -> list[int]:
    """Queue a sync of every source whose scheduled time has come (the periodic job).

    The claim and the jobs are one transaction: a source moved on to its next run always has
    its sync queued. Returns the ids queued.
    """
    return await writes.write(_claim_and_queue, queue=queue)


def _claim_and_queue(*, queue: Callable[[list[int]], None]) -> list[int]:
    due = sources.claim_due(now=timezone.now())
    if due:
        queue(due)
    return due
