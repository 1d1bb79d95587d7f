"""Generate release notes for a git range: read, classify, optionally ask models, store, post.

The offline classification always runs and is always the fallback: a model only improves the
entries it was asked about, batch by batch, and a batch whose answer stays invalid after
pydantic-ai's retries (or times out, or errors) keeps its offline entries. The run, the notes
and every agent call are written in one transaction after all network work is done; posting to
a channel happens after that write, so a stored run never depends on Slack being up.
"""

import asyncio
import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.utils import timezone

from application import writes
from application.release_notes import progress as progress_module
from domain import agent_runs
from domain.release_notes import classification as cc
from domain.release_notes import classifying, git_log, grouping, records, rendering

if TYPE_CHECKING:
    from application import model_runs

logger = logging.getLogger(__name__)

OFFLINE = "offline"


class EmptyRange(Exception):
    """The range holds no commits (e.g. ``--from`` is not behind ``--to``)."""


class InvalidInput(Exception):
    """An argument the run could not store (e.g. a version name longer than the column)."""


class PublishFailed(Exception):
    """The notes were stored but could not be posted."""


class Publisher(Protocol):
    """Posts finished notes somewhere people read them (Slack in production)."""

    async def publish(self, *, channel: str, markdown: str) -> None: ...


@dataclasses.dataclass(frozen=True, kw_only=True)
class Result:
    release_notes_id: int
    markdown: str
    data: dict[str, Any]
    model: str
    summary: str
    commit_count: int
    group_count: int
    model_calls: int
    input_tokens: int
    output_tokens: int
    duration_s: float
    batches: int
    model_duration_s: float  # time spent waiting for models (classifier batches and writer)
    posted_channel: str


async def generate(
    *,
    repo: Path,
    from_ref: str,
    to_ref: str = "HEAD",
    version: str = "",
    offline: bool = False,
    post_to: str = "",
    publisher: Publisher | None = None,
    progress: progress_module.Progress | None = None,
    now: dt.datetime,
) -> Result:
    """Notes for ``from_ref..to_ref`` of the repository at ``repo``, stored and maybe posted.

    Raises ``InvalidInput``, ``git_log.NotARepository``, ``git_log.UnknownRef``,
    ``EmptyRange`` and ``git_log.GitError`` (e.g. a corrupt repository) for bad input, and
    ``PublishFailed`` when posting fails after the notes were stored.
    """
    started = time.monotonic()
    progress = progress or progress_module.NoProgress()
    fields = {"version": version, "from_ref": from_ref, "to_ref": to_ref, "posted_channel": post_to}
    if problem := records.too_long(fields=fields):
        raise InvalidInput(problem)
    # The repository is checked and both refs resolved at once (three short git processes);
    # a failure is reported as if they had run one after the other.
    checked, resolved, from_sha, to_sha = await asyncio.gather(
        git_log.check_repository(repo=repo),
        asyncio.to_thread(repo.resolve),
        git_log.resolve(repo=repo, ref=from_ref),
        git_log.resolve(repo=repo, ref=to_ref),
        return_exceptions=True,
    )
    _outcome(checked)
    repo = _outcome(resolved)
    if problem := records.too_long(fields={"repository": str(repo)}):
        raise InvalidInput(problem)
    from_sha, to_sha = _outcome(from_sha), _outcome(to_sha)
    total = await git_log.count(repo=repo, from_sha=from_sha, to_sha=to_sha)
    if total == 0:
        raise EmptyRange(f"no commits in {from_ref}..{to_ref}")

    progress.stage(name="Reading commits", total=total)
    classifier_model, writer_model = _models(offline=offline)
    if classifier_model or writer_model:
        # pydantic-ai is imported only when a model is configured: offline runs (CI, no
        # model) do without it.
        from application.release_notes import improving
    # Whom to look for in the history before the range is known once the range is classified;
    # git starts walking that history now, alongside the reading and the classifying.
    contributor_keys: asyncio.Future[set[str]] = asyncio.get_running_loop().create_future()
    improve_task = writer_task = None
    batches: list[Any] = []
    try:
        async with asyncio.TaskGroup() as group:
            remote_task = group.create_task(git_log.remote_url(repo=repo))
            earlier_task = group.create_task(
                git_log.earlier_contributors(repo=repo, before_sha=from_sha, among=contributor_keys)
            )
            commits = await _read(repo=repo, from_sha=from_sha, to_sha=to_sha, progress=progress)
            classification = await asyncio.to_thread(
                classifying.classify, commits=commits, tip=to_sha
            )
            del commits  # the entries keep what the notes need
            contributor_keys.set_result(classification.contributor_keys())

            if classifier_model:
                batches = improving.plan_batches(
                    entries=classification.entries,
                    size=settings.CHATBOT_RELEASE_NOTES_BATCH_SIZE,
                    concurrency=settings.CHATBOT_RELEASE_NOTES_CONCURRENCY,
                )
            if batches or writer_model:
                progress.stage(name="Asking the model", total=len(batches) + bool(writer_model))
            # The first model call starts now: everything else runs alongside the model calls
            # (git for the earlier contributors) or after them (rendering), and the writer does
            # not wait for the classifier. It is given the entries that are not vague: the ones
            # the classifier is about to rewrite are mostly "wip" and "misc", which a summary
            # must not rely on anyway, while short but meaningful ones ("Drop the v1 API", a
            # breaking change) are kept.
            model_started = time.monotonic()
            if batches:
                improve_task = group.create_task(
                    improving.improve_entries(
                        classification=classification,
                        batches=batches,
                        model=classifier_model,
                        repository=str(repo),
                        progress=progress,
                    )
                )
            if writer_model:
                writer_task = group.create_task(
                    _write_highlights(
                        classification=classification,
                        model=writer_model,
                        version=version or to_ref,
                        progress=progress,
                    )
                )
            earlier = await earlier_task
            contributors = await asyncio.to_thread(
                cc.contributors, classification=classification, earlier=earlier
            )
    except* git_log.GitError as errors:
        # A task group wraps what fails inside it; callers handle a GitError, not a group.
        raise errors.exceptions[0] from None

    runs: list[model_runs.ModelRun[Any]] = []
    if improve_task is not None:
        classification, batch_runs = improve_task.result()
        runs += batch_runs
    highlights = _offline_highlights(classification=classification, contributors=contributors)
    if writer_task is not None:
        written, outcome = writer_task.result()
        runs.append(outcome)
        highlights = written or highlights
    model_duration_s = time.monotonic() - model_started if runs else 0.0

    notes = rendering.Notes(
        repository=str(repo),
        from_ref=from_ref,
        to_ref=to_ref,
        from_sha=from_sha,
        to_sha=to_sha,
        version=version,
        date=now.date(),
        highlights=highlights,
        classification=classification,
        contributors=contributors,
        links=rendering.links_for(remote_url=remote_task.result()),
    )
    markdown = rendering.markdown(notes=notes)
    data = rendering.data(notes=notes)
    model_name = " / ".join(dict.fromkeys(m for m in (classifier_model, writer_model) if m))
    model_name = model_name or OFFLINE
    duration_s = time.monotonic() - started
    record = records.NewReleaseNotes(
        repository=str(repo),
        from_ref=from_ref,
        to_ref=to_ref,
        from_sha=from_sha,
        to_sha=to_sha,
        version=version,
        markdown=markdown,
        data=data,
        model=model_name,
        commit_count=total,
        counts=data["counts"],
        model_calls=sum(run.requests for run in runs),
        input_tokens=sum(record.input_tokens for run in runs for record in run.records),
        output_tokens=sum(record.output_tokens for run in runs for record in run.records),
        duration_ms=round(duration_s * 1000),
        created_at=now,
    )
    release_notes_id = await writes.write(
        _save, notes=record, runs=[record for run in runs for record in run.records]
    )

    posted_channel = ""
    if post_to and publisher is not None:
        try:
            await publisher.publish(channel=post_to, markdown=markdown)
        except PublishFailed as error:
            raise PublishFailed(f"{error} (stored as release notes #{release_notes_id})") from error
        await writes.write(
            _mark_posted,
            release_notes_id=release_notes_id,
            channel=post_to,
            posted_at=timezone.now(),
        )
        posted_channel = post_to

    return Result(
        release_notes_id=release_notes_id,
        markdown=markdown,
        data=data,
        model=model_name,
        summary=rendering.summary(classification=classification),
        commit_count=total,
        group_count=len(classification.grouped()),
        model_calls=record.model_calls,
        input_tokens=record.input_tokens,
        output_tokens=record.output_tokens,
        duration_s=time.monotonic() - started,
        batches=len(batches),
        model_duration_s=model_duration_s,
        posted_channel=posted_channel,
    )


def _outcome[T](outcome: T | BaseException) -> T:
    """A result of ``asyncio.gather(..., return_exceptions=True)``, or its exception raised."""
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


async def _read(
    *, repo: Path, from_sha: str, to_sha: str, progress: progress_module.Progress
) -> list[git_log.Commit]:
    commits: list[git_log.Commit] = []
    async for commit in git_log.commits(repo=repo, from_sha=from_sha, to_sha=to_sha):
        commits.append(commit)
        if len(commits) % 100 == 0:
            progress.advance(steps=100)
    progress.advance(steps=len(commits) % 100)
    return commits


async def _write_highlights(
    *,
    classification: cc.Classification,
    model: str,
    version: str,
    progress: progress_module.Progress,
) -> tuple[str, "model_runs.ModelRun[Any]"]:
    from application.release_notes import improving

    not_vague = tuple(e for e in classification.entries if not grouping.is_vague(e.description))
    written = await improving.write_highlights(
        classification=dataclasses.replace(classification, entries=not_vague),
        model=model,
        version=version,
    )
    progress.advance()
    return written


def _models(*, offline: bool) -> tuple[str, str]:
    """The classifier's and the writer's model, "" for each that is not configured."""
    if offline:
        return "", ""
    classifier = settings.CHATBOT_CLASSIFIER_MODEL or settings.CHATBOT_MODEL
    writer = settings.CHATBOT_MODEL
    return (
        "" if classifier == OFFLINE else classifier,
        "" if writer == OFFLINE else writer,
    )


def _offline_highlights(
    *, classification: cc.Classification, contributors: Sequence[cc.Contributor]
) -> str:
    """A factual sentence from the counts, so notes without a model still open with a summary."""
    grouped = dict(classification.grouped())
    parts = []
    for group, word in (
        (cc.Group.BREAKING, "breaking change"),
        (cc.Group.FEATURES, "new feature"),
        (cc.Group.FIXES, "fix"),
        (cc.Group.PERFORMANCE, "performance improvement"),
    ):
        n = len(grouped.get(group, ()))
        if n:
            plural = "es" if word.endswith("x") else "s"
            parts.append(f"{n} {word}{plural if n != 1 else ''}")
    if not parts:
        return ""
    text = "This release brings " + (
        parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    )
    newcomers = sum(1 for c in contributors if c.first_time)
    if contributors:
        people = f"{len(contributors)} contributor{'s' if len(contributors) != 1 else ''}"
        text += f", from {people}"
        if newcomers:
            text += f" ({newcomers} contributing for the first time)"
    text += "."
    if cc.Group.BREAKING in grouped:
        text += " Read the breaking changes before upgrading."
    return text


def _save(*, notes: records.NewReleaseNotes, runs: list[agent_runs.AgentRunRecord]) -> int:
    release_notes_id = records.create(notes=notes)
    agent_runs.save(runs=runs, release_notes_id=release_notes_id)
    return release_notes_id


def _mark_posted(*, release_notes_id: int, channel: str, posted_at: dt.datetime) -> None:
    records.mark_posted(release_notes_id=release_notes_id, channel=channel, posted_at=posted_at)
