"""Eval cases, the documents search found, and stored runs: queries (async) and writes (sync,
inside the caller's atomic block)."""

import dataclasses
import datetime as dt
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, Q

from data import models
from domain.evals import cases as cases_module
from domain.evals import scoring
from domain.questions import review

ADMIN_SET = "admin"


class RunNotFound(LookupError):
    pass


@dataclasses.dataclass(frozen=True, kw_only=True)
class StoredRun:
    id: int
    started_at: dt.datetime
    finished_at: dt.datetime
    set_name: str
    git_commit: str
    model: str
    grader_model: str
    k: int
    settings: dict[str, Any]
    baseline_id: int | None
    results: tuple[scoring.CaseResult, ...]


def admin_case_key(eval_case_id: int) -> str:
    return f"case-{eval_case_id}"


async def admin_cases() -> list[cases_module.Case]:
    """The admin's active eval cases, oldest first."""
    return [
        cases_module.Case(
            key=admin_case_key(row.pk),
            question=row.text,
            gold_sources=tuple(row.gold_sources),
            required_facts=tuple(row.required_facts),
            expect_not_covered=row.expect_not_covered,
            eval_case_id=row.pk,
        )
        async for row in models.EvalCase.objects.filter(active=True).order_by("pk")
    ]


async def documents_of(*, chunk_ids: list[int]) -> dict[int, scoring.Retrieved]:
    """``chunk id -> its document``, for matching what search found against gold sources."""
    rows = models.Chunk.objects.filter(pk__in=chunk_ids).values_list(
        "id", "heading_path", "document__path", "document__title", "document__source__name"
    )
    return {
        chunk_id: scoring.Retrieved(source=source, path=path, title=title, heading=heading)
        async for chunk_id, heading, path, title, source in rows
    }


async def knowledge_summary() -> dict[str, Any]:
    """What the knowledge base held, stored with a run: a changed document explains a change."""
    figures = await models.Document.objects.aaggregate(
        documents=Count("pk"), last_ingested_at=Max("ingested_at")
    )
    last = figures["last_ingested_at"]
    return {
        "documents": figures["documents"],
        "chunks": await models.Chunk.objects.acount(),
        "last_ingested_at": last.isoformat() if last is not None else None,
    }


def _result(row: models.EvalResult, *, k: int) -> scoring.CaseResult:
    gold = tuple(row.gold_sources)
    return scoring.CaseResult(
        key=row.key,
        question=row.question,
        gold_sources=gold,
        required_facts=tuple(row.required_facts),
        expect_not_covered=row.expect_not_covered,
        eval_case_id=row.eval_case_id,
        retrieved=tuple(scoring.Retrieved(**found) for found in row.retrieved),
        hit_rank=row.hit_rank,
        hit=None if not gold else row.hit_rank is not None and row.hit_rank <= k,
        missing_facts=tuple(row.missing_facts),
        grade=row.grade,
        covered=row.covered,
        coverage_ok=row.covered is (not row.expect_not_covered),
        passed=row.passed,
        answer=row.answer,
        error=row.error,
        latency_ms=row.latency_ms,
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        grading_tokens=row.grading_tokens,
    )


async def stored_run(*, run_id: int) -> StoredRun:
    """A stored run with its results in order; raises ``RunNotFound``."""
    run = await models.EvalRun.objects.filter(pk=run_id).afirst()
    if run is None:
        raise RunNotFound(f"there is no eval run {run_id}")
    results = [
        _result(row, k=run.k)
        async for row in models.EvalResult.objects.filter(run_id=run_id).order_by("position")
    ]
    return StoredRun(
        id=run.pk,
        started_at=run.started_at,
        finished_at=run.finished_at,
        set_name=run.set_name,
        git_commit=run.git_commit,
        model=run.model,
        grader_model=run.grader_model,
        k=run.k,
        settings=run.settings_summary,
        baseline_id=run.baseline_id,
        results=tuple(results),
    )


async def earlier_run_id(*, run_id: int) -> int | None:
    """The run of the same question set just before this one, if any."""
    run = await models.EvalRun.objects.filter(pk=run_id).afirst()
    if run is None:
        return None
    earlier = (
        models.EvalRun.objects.filter(set_name=run.set_name, started_at__lt=run.started_at)
        .order_by("-started_at", "-pk")
        .values_list("pk", flat=True)
    )
    return await earlier.afirst()


def save_run(
    *,
    started_at: dt.datetime,
    finished_at: dt.datetime,
    set_name: str,
    git_commit: str,
    model: str,
    grader_model: str,
    k: int,
    settings: dict[str, Any],
    baseline_id: int | None,
    results: list[scoring.CaseResult],
) -> int:
    """Store a run and its results; the run's id."""
    summary = scoring.totals(results=results)
    run = models.EvalRun.objects.create(
        started_at=started_at,
        finished_at=finished_at,
        set_name=set_name[:500],
        git_commit=git_commit[:64],
        model=model[:200],
        grader_model=grader_model[:200],
        k=k,
        settings_summary=settings,
        case_count=summary.cases,
        passed_count=summary.passed,
        hit_count=summary.hits,
        gold_count=summary.gold_cases,
        input_tokens=summary.input_tokens,
        output_tokens=summary.output_tokens,
        latency_ms=summary.latency_ms,
        baseline_id=baseline_id,
    )
    # A case deleted in the admin while the run went on keeps its result, without the link.
    existing = set(
        models.EvalCase.objects.filter(
            pk__in=[result.eval_case_id for result in results if result.eval_case_id]
        ).values_list("pk", flat=True)
    )
    models.EvalResult.objects.bulk_create(
        models.EvalResult(
            run=run,
            position=position,
            key=result.key,
            eval_case_id=result.eval_case_id if result.eval_case_id in existing else None,
            question=result.question,
            gold_sources=list(result.gold_sources),
            required_facts=list(result.required_facts),
            expect_not_covered=result.expect_not_covered,
            retrieved=[dataclasses.asdict(found) for found in result.retrieved],
            hit_rank=result.hit_rank,
            missing_facts=list(result.missing_facts),
            grade=result.grade,
            covered=result.covered,
            passed=result.passed,
            answer=result.answer,
            error=result.error,
            latency_ms=result.latency_ms,
            input_tokens=result.input_tokens,
            output_tokens=result.output_tokens,
            grading_tokens=result.grading_tokens,
        )
        for position, result in enumerate(results, start=1)
    )
    return run.pk


def is_eval_case() -> Exists:
    return Exists(models.EvalCase.objects.filter(question=OuterRef("pk")))


def proposed_condition() -> Q:
    """Questions worth making eval cases of: a 👎 on an answer, and not a case yet."""
    return Q(review.has_vote(vote=models.Feedback.Vote.DOWN)) & ~Q(is_eval_case())


def make_cases(*, question_ids: list[int], created_by_id: int | None, now: dt.datetime) -> int:
    """An eval case for each question that has none yet (its text; the reviewer adds the
    gold sources and facts); how many were made."""
    questions = (
        models.Question.objects.filter(pk__in=question_ids, forgotten_at__isnull=True)
        .exclude(is_eval_case())
        .exclude(text="")
        .order_by("pk")
    )
    made = models.EvalCase.objects.bulk_create(
        [
            models.EvalCase(
                question_id=question.pk,
                text=question.text,
                created_at=now,
                created_by_id=created_by_id,
            )
            for question in questions
        ],
        ignore_conflicts=True,
    )
    return len(made)
