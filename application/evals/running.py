"""``manage.py eval``: a question set through the current answer pipeline, scored and stored.

Each case is answered exactly as a question in Slack is, minus Slack and the question's own
records: the same answer agent through the one runner (``answering.generation.generate``, the
model of ``CHATBOT_MODEL``) searching with the same search (``answering.passages.search``),
which is recorded on the way to score retrieval. Nothing is posted and no question is stored,
so evals never show up in the dashboard; the run and its results are stored instead, in one
write at the end.
"""

import asyncio
import dataclasses
import datetime as dt
import logging
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from application import writes
from application.answering import agent as answer_agent
from application.answering import generation, passages
from application.evals import grading
from domain.evals import cases as cases_module
from domain.evals import comparison as comparison_module
from domain.evals import records, scoring

logger = logging.getLogger(__name__)

OFFLINE = "offline"
MAX_K = 20
RETRIEVED_KEPT = 10  # documents kept per case (beyond k, to see near misses)
GIT_TIMEOUT = 5.0


class EvalError(Exception):
    """The eval cannot run: no such file, a bad question set, no cases, an unknown run."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Report:
    run_id: int
    set_name: str
    git_commit: str
    model: str
    grader_model: str
    k: int
    settings: dict[str, Any]
    started_at: dt.datetime
    finished_at: dt.datetime
    results: tuple[scoring.CaseResult, ...]
    totals: scoring.Totals
    comparison: comparison_module.Comparison | None


class _RecordingSearch:
    """The product's search, noting every passage it hands the answer agent, in order."""

    def __init__(self) -> None:
        self.found: list[answer_agent.Passage] = []

    async def __call__(self, *, query: str, limit: int) -> list[answer_agent.Passage]:
        found = await passages.search(query=query, limit=limit)
        self.found.extend(found)
        return found


async def _cases(
    *, cases_file: str | None, from_admin: bool
) -> tuple[str, list[cases_module.Case]]:
    if from_admin == (cases_file is not None):
        raise EvalError("give a question set file, or --from-admin for the admin's eval cases")
    if cases_file is None:
        cases = await records.admin_cases()
        if not cases:
            raise EvalError(
                "there are no active eval cases in the admin "
                "(make some with the questions' action “Make eval case”)"
            )
        return records.ADMIN_SET, cases
    try:
        text = await asyncio.to_thread(Path(cases_file).read_text, encoding="utf-8")
    except FileNotFoundError:
        raise EvalError(f"{cases_file}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise EvalError(f"{cases_file}: cannot be read ({error})") from None
    try:
        return cases_file, cases_module.parse(text=text)
    except cases_module.CaseFileError as error:
        raise EvalError(f"{cases_file}: {error}") from None


async def _git_commit() -> str:
    """The checkout's commit, so a run says what code it ran; "" outside a git checkout."""
    try:
        process = await asyncio.create_subprocess_exec(
            "git",
            "-C",
            str(settings.BASE_DIR),
            "rev-parse",
            "--short=12",
            "HEAD",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        async with asyncio.timeout(GIT_TIMEOUT):
            out, _err = await process.communicate()
    except (OSError, TimeoutError):
        return ""
    return out.decode().strip() if process.returncode == 0 else ""


async def _run_case(*, case: cases_module.Case, k: int, grader_model: str) -> scoring.CaseResult:
    search = _RecordingSearch()
    began = time.perf_counter()
    generated = await generation.generate(question=case.question, history=[], search=search)
    latency_ms = int((time.perf_counter() - began) * 1000)
    chunk_ids = list(dict.fromkeys(passage.chunk_id for passage in search.found))
    documents = await records.documents_of(chunk_ids=chunk_ids)
    retrieved = [documents[chunk_id] for chunk_id in chunk_ids if chunk_id in documents]
    output = generated.output
    graded = (
        await grading.grade(case=case, answer=output.answer, model_name=grader_model)
        if grader_model and output is not None
        else None
    )
    return scoring.score(
        case=case,
        k=k,
        retrieved=retrieved[: max(k, RETRIEVED_KEPT)],
        answer=output.answer if output is not None else None,
        covered=output.covered if output is not None else None,
        grade=graded.score if graded is not None else None,
        error=generated.error,
        latency_ms=latency_ms,
        input_tokens=sum(run.input_tokens for run in generated.runs),
        output_tokens=sum(run.output_tokens for run in generated.runs),
        grading_tokens=graded.tokens if graded is not None else 0,
    )


async def evaluate(
    *,
    cases_file: str | None = None,
    from_admin: bool = False,
    k: int = answer_agent.SEARCH_LIMIT,
    compare_to: int | None = None,
    grade: bool = True,
    grader_model: str = "",
    concurrency: int = 1,
) -> Report:
    """Run the cases (a question set file, or the admin's), score, store; the report.

    With a model configured (``CHATBOT_MODEL`` other than ``offline``) and ``grade``, a grading
    model (``grader_model``, default the same) also scores each answer. ``compare_to``: an
    earlier run's id, whose results this run is compared with. Raises ``EvalError``.
    """
    if not 1 <= k <= MAX_K:
        raise EvalError(f"k must be between 1 and {MAX_K}")
    if concurrency < 1:
        raise EvalError("concurrency must be at least 1")
    set_name, cases = await _cases(cases_file=cases_file, from_admin=from_admin)
    baseline = None
    if compare_to is not None:
        try:
            baseline = await records.stored_run(run_id=compare_to)
        except records.RunNotFound as error:
            raise EvalError(str(error)) from None
    model = settings.CHATBOT_MODEL
    grader = (grader_model or model) if grade and model != OFFLINE else ""
    if grader == OFFLINE:
        grader = ""
    started_at = timezone.now()
    commit = await _git_commit()
    limit = asyncio.Semaphore(concurrency)

    async def one(case: cases_module.Case) -> scoring.CaseResult:
        async with limit:
            return await _run_case(case=case, k=k, grader_model=grader)

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one(case)) for case in cases]
    results = [task.result() for task in tasks]
    finished_at = timezone.now()
    run_settings = {
        "model": model,
        "grader_model": grader,
        "k": k,
        "search_limit": answer_agent.SEARCH_LIMIT,
        "model_timeout": settings.CHATBOT_MODEL_TIMEOUT,
        "model_retries": settings.CHATBOT_MODEL_RETRIES,
        "request_limit": settings.CHATBOT_MODEL_REQUEST_LIMIT,
        "token_limit": settings.CHATBOT_MODEL_TOKEN_LIMIT,
        "concurrency": concurrency,
        "knowledge": await records.knowledge_summary(),
    }
    run_id = await writes.write(
        records.save_run,
        started_at=started_at,
        finished_at=finished_at,
        set_name=set_name,
        git_commit=commit,
        model=model,
        grader_model=grader,
        k=k,
        settings=run_settings,
        baseline_id=baseline.id if baseline is not None else None,
        results=results,
    )
    logger.info("Eval run %s: %s cases", run_id, len(results))
    return Report(
        run_id=run_id,
        set_name=set_name,
        git_commit=commit,
        model=model,
        grader_model=grader,
        k=k,
        settings=run_settings,
        started_at=started_at,
        finished_at=finished_at,
        results=tuple(results),
        totals=scoring.totals(results=results),
        comparison=(
            comparison_module.compare(
                baseline_run_id=baseline.id, before=baseline.results, now=results
            )
            if baseline is not None
            else None
        ),
    )
