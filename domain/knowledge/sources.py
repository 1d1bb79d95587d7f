"""Documentation sources as things to sync: their settings, their schedule and their status.

A source is a folder, a web site or a git repository (docs/knowledge-base.md). Each sync
records when it started and ended, how it went, how many pages or files it found and what
failed, so the admin shows a source's health without reading logs. A schedule is a cron
expression; ``next_sync_at`` is when the scheduler (``chatbot.tasks``) queues the next sync.
"""

import dataclasses
import datetime as dt
from typing import Any

from croniter import croniter  # type: ignore[import-untyped]  # procrastinate's cron library

from data import models
from domain.knowledge import documents

Kind = models.DocumentationSource.Kind
Outcome = models.DocumentationSource.SyncOutcome


@dataclasses.dataclass(frozen=True, kw_only=True)
class SyncTarget:
    """Everything a sync needs to know about its source."""

    id: int
    name: str
    kind: str
    location: str
    root: str
    base_url: str
    git_ref: str
    git_subdir: str
    url_template: str
    schedule: str
    synced_commit: str
    failed_paths: frozenset[str]  # what the last sync could not read, to try again


@dataclasses.dataclass(frozen=True, kw_only=True)
class SyncFailure:
    path: str  # '' for the source as a whole
    reason: str


class KindMismatch(Exception):
    """A source of that name exists, of another kind or at another location."""


def schedule_error(schedule: str) -> str:
    """Why ``schedule`` is not a cron expression ('' when it is, or is empty)."""
    if not schedule.strip():
        return ""
    if not croniter.is_valid(schedule.strip()):
        return f"{schedule!r} is not a cron expression (e.g. '0 * * * *' for every hour)"
    return ""


def next_run(*, schedule: str, now: dt.datetime) -> dt.datetime | None:
    """When a source on this schedule syncs next after ``now`` (None: only by hand)."""
    if not schedule.strip() or schedule_error(schedule):
        return None
    following: dt.datetime = croniter(schedule.strip(), now).get_next(dt.datetime)
    return following


async def get(*, source_id: int) -> SyncTarget:
    try:
        row = await models.DocumentationSource.objects.aget(pk=source_id)
    except models.DocumentationSource.DoesNotExist as error:
        raise documents.SourceNotFound(f"no documentation source with id {source_id}") from error
    return _target(row)


async def find(*, name: str) -> SyncTarget | None:
    row = await models.DocumentationSource.objects.filter(name=name).afirst()
    return None if row is None else _target(row)


def _target(row: models.DocumentationSource) -> SyncTarget:
    errors: list[Any] = row.last_sync_errors if isinstance(row.last_sync_errors, list) else []
    return SyncTarget(
        id=row.pk,
        name=row.name,
        kind=row.kind,
        location=row.location,
        root=row.root,
        base_url=row.base_url,
        git_ref=row.git_ref,
        git_subdir=row.git_subdir,
        url_template=row.url_template,
        schedule=row.schedule,
        synced_commit=row.synced_commit,
        failed_paths=frozenset(
            str(error["path"]) for error in errors if isinstance(error, dict) and error.get("path")
        ),
    )


def save_remote(
    *,
    name: str,
    kind: str,
    location: str,
    git_ref: str,
    git_subdir: str,
    url_template: str | None,
    schedule: str | None,
    now: dt.datetime,
) -> int:
    """Create or update a web or git source from the command line; return its id.

    ``url_template`` and ``schedule`` None keep the stored values. A name already used by a
    source of another kind is refused: its documents would be mixed up.
    """
    existing = models.DocumentationSource.objects.filter(name=name).first()
    if existing is not None and existing.kind != kind:
        raise KindMismatch(
            f"source {name!r} is a {existing.get_kind_display().lower()} source, not a "
            f"{Kind(kind).label.lower()} one"
        )
    source = existing or models.DocumentationSource(name=name, kind=kind)
    source.location = location
    source.git_ref = git_ref
    source.git_subdir = git_subdir
    if url_template is not None:
        source.url_template = url_template
    if schedule is not None:
        source.schedule = schedule
    source.next_sync_at = next_run(schedule=source.schedule, now=now)
    source.save()
    return source.pk


def set_schedule(*, source_id: int, schedule: str, now: dt.datetime) -> None:
    models.DocumentationSource.objects.filter(pk=source_id).update(
        schedule=schedule, next_sync_at=next_run(schedule=schedule, now=now)
    )


def sync_started(*, source_id: int, now: dt.datetime) -> None:
    models.DocumentationSource.objects.filter(pk=source_id).update(last_sync_started_at=now)


def sync_finished(
    *,
    source_id: int,
    now: dt.datetime,
    outcome: str,
    summary: str,
    pages: int,
    failures: list[SyncFailure],
    commit: str | None,
) -> None:
    """Record how a sync went, and when the next one is due. ``commit`` None keeps the last
    synced commit (a failed git sync did not get further)."""
    source = models.DocumentationSource.objects.select_for_update().get(pk=source_id)
    source.last_synced_at = now
    source.last_sync_outcome = outcome
    source.last_sync_summary = summary
    source.last_sync_pages = pages
    source.last_sync_errors = [
        {"path": failure.path, "reason": failure.reason} for failure in failures
    ]
    if commit is not None:
        source.synced_commit = commit
    source.next_sync_at = next_run(schedule=source.schedule, now=now)
    source.save(
        update_fields=[
            "last_synced_at",
            "last_sync_outcome",
            "last_sync_summary",
            "last_sync_pages",
            "last_sync_errors",
            "synced_commit",
            "next_sync_at",
        ]
    )


def claim_due(*, now: dt.datetime) -> list[int]:
    """The sources whose scheduled sync is due, moved on to their next run (in the caller's
    transaction, which also queues their jobs: a claimed sync always has its job)."""
    due = list(
        models.DocumentationSource.objects.select_for_update(skip_locked=True)
        .exclude(schedule="")
        .filter(next_sync_at__lte=now)
        .order_by("pk")
    )
    for source in due:
        source.next_sync_at = next_run(schedule=source.schedule, now=now)
        source.save(update_fields=["next_sync_at"])
    return [source.pk for source in due]
