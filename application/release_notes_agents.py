"""The model side of release notes: the classifier in parallel batches, then the writer.

Imported only when a model is configured: pydantic-ai takes seconds to import, and offline
runs never need it. Every call is recorded; none can fail the run (see ``run_agent``).
"""

import asyncio
import dataclasses
import logging
import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone
from pydantic_ai import exceptions as ai_exceptions
from pydantic_ai import usage as ai_usage

from application.agents import commit_classifier, highlights_writer
from data import models
from domain import agent_runs
from domain.release_notes import classification as cc

if TYPE_CHECKING:
    from application.release_notes import Progress

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, kw_only=True)
class AgentOutcome:
    record: agent_runs.AgentRunRecord
    requests: int


def _usage_limits() -> ai_usage.UsageLimits:
    return ai_usage.UsageLimits(
        request_limit=settings.CHATBOT_MODEL_REQUEST_LIMIT,
        total_tokens_limit=settings.CHATBOT_MODEL_TOKEN_LIMIT,
    )


def plan_batches(
    *, entries: Sequence[cc.Entry], size: int, concurrency: int
) -> list[list[cc.Entry]]:
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


async def improve_entries(
    *,
    classification: cc.Classification,
    batches: Sequence[list[cc.Entry]],
    model: str,
    repository: str,
    progress: "Progress",
) -> tuple[cc.Classification, list[AgentOutcome]]:
    """Ask the classifier about the entries in ``batches`` (see ``plan_batches``), batches in
    parallel up to the limit; each advances ``progress`` by one."""
    if not batches:
        return classification, []
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
    outcomes: list[AgentOutcome] = []
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
    # One line, whatever the model wrote: the notes put it on a list item of its own.
    summary = " ".join(verdict.summary.split()).rstrip(".")
    return dataclasses.replace(entry, group=group, description=summary, clear=True)


async def _classify_batch(
    *,
    batch: list[cc.Entry],
    model: str,
    repository: str,
    limit: asyncio.Semaphore,
    progress: "Progress",
) -> tuple[dict[str, commit_classifier.Verdict], AgentOutcome]:
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
        output, outcome = await run_agent(
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


async def write_highlights(
    *, classification: cc.Classification, model: str, version: str
) -> tuple[str, AgentOutcome]:
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
    output, outcome = await run_agent(
        agent=highlights_writer.agent,
        name="highlights_writer",
        model=model,
        prompt=highlights_writer.prompt(deps=deps),
        deps=deps,
    )
    return (" ".join(output.paragraph.split()) if output is not None else ""), outcome


async def run_agent(
    *, agent: Any, name: str, model: str, prompt: str, deps: Any
) -> tuple[Any, AgentOutcome]:
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
    return output, AgentOutcome(record=record, requests=usage.requests)
