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
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from asgiref.sync import sync_to_async
from django import db
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from pydantic_ai import exceptions as ai_exceptions
from pydantic_ai import usage as ai_usage

from application.agents import commit_classifier, highlights_writer
from data import models
from domain import agent_runs, git_log, release_notes_records
from domain import commit_classification as cc
from domain import release_notes_rendering as rendering

logger = logging.getLogger(__name__)

OFFLINE = "offline"


class EmptyRange(Exception):
    """The range holds no commits (e.g. ``--from`` is not behind ``--to``)."""


class PublishFailed(Exception):
    """The notes were stored but could not be posted."""


class Progress(Protocol):
    """Where a long run reports how far it got (a progress bar on a terminal, or nothing)."""

    def stage(self, *, name: str, total: int | None) -> None: ...

    def advance(self, *, steps: int = 1) -> None: ...


class Publisher(Protocol):
    """Posts finished notes somewhere people read them (Slack in production)."""

    async def publish(self, *, channel: str, markdown: str) -> None: ...


class NoProgress:
    def stage(self, *, name: str, total: int | None) -> None:
        pass

    def advance(self, *, steps: int = 1) -> None:
        pass


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


@dataclasses.dataclass(frozen=True, kw_only=True)
class _AgentOutcome:
    record: agent_runs.AgentRunRecord
    requests: int


async def generate(
    *,
    repo: Path,
    from_ref: str,
    to_ref: str = "HEAD",
    version: str = "",
    offline: bool = False,
    post_to: str = "",
    publisher: Publisher | None = None,
    progress: Progress | None = None,
    now: dt.datetime,
) -> Result:
    """Notes for ``from_ref..to_ref`` of the repository at ``repo``, stored and maybe posted.

    Raises ``git_log.NotARepository``, ``git_log.UnknownRef`` and ``EmptyRange`` for bad input,
    and ``PublishFailed`` when posting fails after the notes were stored.
    """
    started = time.monotonic()
    progress = progress or NoProgress()
    await git_log.check_repository(repo=repo)
    repo = await asyncio.to_thread(repo.resolve)
    from_sha = await git_log.resolve(repo=repo, ref=from_ref)
    to_sha = await git_log.resolve(repo=repo, ref=to_ref)
    total = await git_log.count(repo=repo, from_sha=from_sha, to_sha=to_sha)
    if total == 0:
        raise EmptyRange(f"no commits in {from_ref}..{to_ref}")

    progress.stage(name="Reading commits", total=total)
    async with asyncio.TaskGroup() as group:
        earlier_task = group.create_task(
            git_log.earlier_contributors(repo=repo, before_sha=from_sha)
        )
        remote_task = group.create_task(git_log.remote_url(repo=repo))
        commits = await _read(repo=repo, from_sha=from_sha, to_sha=to_sha, progress=progress)

    classification = await asyncio.to_thread(cc.classify, commits=commits, tip=to_sha)
    contributors = cc.contributors(
        commits=commits, classification=classification, earlier=earlier_task.result()
    )
    del commits  # the entries keep what the notes need

    classifier_model, writer_model = _models(offline=offline)
    runs: list[_AgentOutcome] = []
    batches = 0
    model_started = time.monotonic()
    if classifier_model:
        classification, batch_runs = await _improve_entries(
            classification=classification,
            model=classifier_model,
            repository=str(repo),
            progress=progress,
        )
        batches = len(batch_runs)
        runs += batch_runs
    highlights = _offline_highlights(classification=classification, contributors=contributors)
    if writer_model:
        progress.stage(name="Writing highlights", total=1)
        written, outcome = await _write_highlights(
            classification=classification, model=writer_model, version=version or to_ref
        )
        progress.advance()
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
    record = release_notes_records.NewReleaseNotes(
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
        input_tokens=sum(run.record.input_tokens for run in runs),
        output_tokens=sum(run.record.output_tokens for run in runs),
        duration_ms=round(duration_s * 1000),
        created_at=now,
    )
    release_notes_id = await sync_to_async(_save, thread_sensitive=True)(
        notes=record, runs=[run.record for run in runs]
    )
    # Give the connection back before talking to Slack.
    await sync_to_async(_release_connection, thread_sensitive=True)()

    posted_channel = ""
    if post_to and publisher is not None:
        try:
            await publisher.publish(channel=post_to, markdown=markdown)
        except PublishFailed as error:
            raise PublishFailed(f"{error} (stored as release notes #{release_notes_id})") from error
        await sync_to_async(_mark_posted, thread_sensitive=True)(
            release_notes_id=release_notes_id, channel=post_to, posted_at=now
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
        batches=batches,
        model_duration_s=model_duration_s,
        posted_channel=posted_channel,
    )


async def _read(
    *, repo: Path, from_sha: str, to_sha: str, progress: Progress
) -> list[git_log.Commit]:
    commits: list[git_log.Commit] = []
    async for commit in git_log.commits(repo=repo, from_sha=from_sha, to_sha=to_sha):
        commits.append(commit)
        if len(commits) % 100 == 0:
            progress.advance(steps=100)
    progress.advance(steps=len(commits) % 100)
    return commits


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


def _usage_limits() -> ai_usage.UsageLimits:
    return ai_usage.UsageLimits(
        request_limit=settings.CHATBOT_MODEL_REQUEST_LIMIT,
        total_tokens_limit=settings.CHATBOT_MODEL_TOKEN_LIMIT,
    )


def _batches(entries: Sequence[cc.Entry], *, size: int, concurrency: int) -> list[list[cc.Entry]]:
    """Unclear entries in batches of at most ``size``, spread evenly over whole rounds.

    The run takes as many model round trips as ``ceil(batches / concurrency)``; filling every
    slot of the last round with smaller batches costs no extra round and makes each call
    shorter (a model's latency grows with the tokens it writes).
    """
    unclear = [entry for entry in entries if not entry.clear]
    if not unclear:
        return []
    rounds = math.ceil(math.ceil(len(unclear) / size) / concurrency)
    count = min(len(unclear), rounds * concurrency)
    return [
        unclear[i * len(unclear) // count : (i + 1) * len(unclear) // count] for i in range(count)
    ]


async def _improve_entries(
    *, classification: cc.Classification, model: str, repository: str, progress: Progress
) -> tuple[cc.Classification, list[_AgentOutcome]]:
    """Ask the classifier about unclear entries, batches in parallel up to the limit."""
    batches = _batches(
        classification.entries,
        size=settings.CHATBOT_RELEASE_NOTES_BATCH_SIZE,
        concurrency=settings.CHATBOT_RELEASE_NOTES_CONCURRENCY,
    )
    if not batches:
        return classification, []
    progress.stage(name="Classifying with the model", total=len(batches))
    limit = asyncio.Semaphore(settings.CHATBOT_RELEASE_NOTES_CONCURRENCY)
    async with asyncio.TaskGroup() as group:
        tasks = [
            group.create_task(
                _classify_batch(
                    batch=batch,
                    model=model,
                    repository=repository,
                    limit=limit,
                    progress=progress,
                )
            )
            for batch in batches
        ]
    verdicts: dict[str, commit_classifier.Verdict] = {}
    outcomes: list[_AgentOutcome] = []
    for task in tasks:
        batch_verdicts, outcome = task.result()
        verdicts.update(batch_verdicts)
        outcomes.append(outcome)
    entries = tuple(_apply(entry, verdicts.get(entry.sha[:12])) for entry in classification.entries)
    return dataclasses.replace(classification, entries=entries), outcomes


def _apply(entry: cc.Entry, verdict: commit_classifier.Verdict | None) -> cc.Entry:
    if verdict is None:
        return entry
    group = entry.group if entry.breaking else cc.Group(verdict.group)
    return dataclasses.replace(
        entry, group=group, description=verdict.summary.strip().rstrip("."), clear=True
    )


async def _classify_batch(
    *,
    batch: list[cc.Entry],
    model: str,
    repository: str,
    limit: asyncio.Semaphore,
    progress: Progress,
) -> tuple[dict[str, commit_classifier.Verdict], _AgentOutcome]:
    deps = commit_classifier.ClassifierDeps(
        repository=repository,
        commits=tuple(
            commit_classifier.CommitToClassify(
                id=entry.sha[:12],
                subject=entry.subject,
                body=entry.body,
                paths=entry.paths,
                offline_group=entry.group.value,
            )
            for entry in batch
        ),
    )
    async with limit:
        output, outcome = await _run_agent(
            agent=commit_classifier.agent,
            name="commit_classifier",
            model=model,
            prompt=commit_classifier.prompt(deps=deps),
            deps=deps,
        )
    progress.advance()
    if output is None:
        return {}, outcome
    return {verdict.id: verdict for verdict in output.commits}, outcome


async def _write_highlights(
    *, classification: cc.Classification, model: str, version: str
) -> tuple[str, _AgentOutcome]:
    deps = highlights_writer.HighlightsDeps(
        version=version,
        groups=tuple(
            (
                cc.TITLES[group],
                tuple(
                    f"{entry.scope + ': ' if entry.scope else ''}{entry.description}"
                    for entry in entries[:40]
                ),
            )
            for group, entries in classification.grouped()
            if group not in {cc.Group.TESTS, cc.Group.BUILD, cc.Group.OTHER}
        ),
    )
    output, outcome = await _run_agent(
        agent=highlights_writer.agent,
        name="highlights_writer",
        model=model,
        prompt=highlights_writer.prompt(deps=deps),
        deps=deps,
    )
    return (output.paragraph.strip() if output is not None else ""), outcome


async def _run_agent(
    *, agent: Any, name: str, model: str, prompt: str, deps: Any
) -> tuple[Any, _AgentOutcome]:
    """Run one agent call; never raise for the model's sake, record what happened."""
    started_at = timezone.now()
    started = time.monotonic()
    usage = ai_usage.RunUsage()
    output: Any = None
    error = ""
    try:
        result = await agent.run(
            prompt,
            deps=deps,
            model=model,
            usage=usage,
            usage_limits=_usage_limits(),
            retries=settings.CHATBOT_MODEL_RETRIES,
            timeout=settings.CHATBOT_MODEL_TIMEOUT,
        )
        output = result.output
        outcome = models.AgentRun.Outcome.OK
    except TimeoutError as exc:
        outcome, error = models.AgentRun.Outcome.TIMEOUT, str(exc) or "timed out"
    except ai_exceptions.UnexpectedModelBehavior as exc:
        outcome, error = models.AgentRun.Outcome.INVALID_OUTPUT, str(exc)
    except (ai_exceptions.AgentRunError, ai_exceptions.ModelAPIError) as exc:
        outcome, error = models.AgentRun.Outcome.ERROR, str(exc)
    except Exception as exc:
        logger.exception("Release notes: agent %s failed unexpectedly", name)
        outcome, error = models.AgentRun.Outcome.ERROR, f"{type(exc).__name__}: {exc}"
    if output is None:
        logger.warning("Release notes: agent %s fell back to offline: %s", name, error)
    record = agent_runs.AgentRunRecord(
        agent=name,
        model=model,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        latency_ms=round((time.monotonic() - started) * 1000),
        outcome=outcome,
        error=error[:2000],
        started_at=started_at,
    )
    return output, _AgentOutcome(record=record, requests=usage.requests)


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


def _save(
    *, notes: release_notes_records.NewReleaseNotes, runs: list[agent_runs.AgentRunRecord]
) -> int:
    with transaction.atomic():
        release_notes_id = release_notes_records.create(notes=notes)
        agent_runs.save(runs=runs, release_notes_id=release_notes_id)
    return release_notes_id


def _mark_posted(*, release_notes_id: int, channel: str, posted_at: dt.datetime) -> None:
    with transaction.atomic():
        release_notes_records.mark_posted(
            release_notes_id=release_notes_id, channel=channel, posted_at=posted_at
        )


def _release_connection() -> None:
    db.close_old_connections()
