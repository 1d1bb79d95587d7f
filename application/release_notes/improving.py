"""The model side of release notes: the classifier in parallel batches, then the writer.

Imported only when a model is configured: pydantic-ai takes seconds to import, and offline
runs never need it. Every call goes through the one agent runner (``application.model_runs``),
is recorded, and cannot fail the run: a batch the model could not do keeps its offline entries.
"""

import asyncio
import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from django.conf import settings

from application import model_runs
from application.release_notes import commit_classifier, highlights_writer
from application.release_notes import progress as progress_module
from domain.release_notes import classification as cc


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
    progress: progress_module.Progress,
) -> tuple[cc.Classification, list[model_runs.ModelRun[Any]]]:
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
    outcomes: list[model_runs.ModelRun[Any]] = []
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
    progress: progress_module.Progress,
) -> tuple[dict[str, commit_classifier.Verdict], model_runs.ModelRun[Any]]:
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
        run = await model_runs.run(
            agent=commit_classifier.agent,
            prompt=commit_classifier.prompt(deps=deps),
            deps=deps,
            model_name=model,
        )
    progress.advance()
    if run.output is None:
        return {}, run
    return {verdict.id: verdict for verdict in run.output.commits}, run


async def write_highlights(
    *, classification: cc.Classification, model: str, version: str
) -> tuple[str, model_runs.ModelRun[Any]]:
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
    run = await model_runs.run(
        agent=highlights_writer.agent,
        prompt=highlights_writer.prompt(deps=deps),
        deps=deps,
        model_name=model,
    )
    return (" ".join(run.output.paragraph.split()) if run.output is not None else ""), run
