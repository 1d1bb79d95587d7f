"""Scoring a case: did search find a gold source, does the answer hold the facts, did it say
"not covered" when it should have; and the run's totals. Pure: no database, no clock.

A case passes when the answer agent produced an answer and every check it names holds:

- its coverage is what the case expects (covered, unless it expects "not covered");
- with gold sources: one of them is among the first ``k`` passages search returned;
- with required facts: each is in the answer (case-insensitive substring or pattern); or, when
  a grading model scored the answer, its score is at least ``PASS_GRADE``.
"""

import dataclasses
import re
import statistics
from collections.abc import Sequence

from domain.evals import cases as cases_module

PASS_GRADE = 0.5


@dataclasses.dataclass(frozen=True, kw_only=True)
class Retrieved:
    """A passage search returned, by its document."""

    source: str
    path: str
    title: str
    heading: str = ""


@dataclasses.dataclass(frozen=True, kw_only=True)
class CaseResult:
    key: str
    question: str
    gold_sources: tuple[str, ...]
    required_facts: tuple[str, ...]
    expect_not_covered: bool
    eval_case_id: int | None
    retrieved: tuple[Retrieved, ...]
    hit_rank: int | None  # rank of the first gold source among the retrieved, from 1
    hit: bool | None  # None when the case names no gold source
    missing_facts: tuple[str, ...]
    grade: float | None  # the grading model's score, when one graded it
    covered: bool | None  # None when there was no answer
    coverage_ok: bool
    passed: bool
    answer: str
    error: str
    latency_ms: int
    input_tokens: int
    output_tokens: int
    grading_tokens: int = 0


@dataclasses.dataclass(frozen=True, kw_only=True)
class Totals:
    cases: int
    passed: int
    gold_cases: int
    hits: int
    hit_rate: float | None  # hits / gold_cases
    fact_cases: int
    facts_ok: int
    expected_not_covered: int
    said_not_covered: int  # of those expected
    errors: int
    input_tokens: int
    output_tokens: int
    grading_tokens: int
    latency_ms: int  # sum
    latency_p50_ms: int
    latency_p95_ms: int


def matches(*, gold: str, document: Retrieved) -> bool:
    """A gold source names the document: its path (or the path's last parts), its path with the
    source (``guide:admin.md``) or its title, ignoring case."""
    wanted = gold.strip().lower().lstrip("./")
    if not wanted:
        return False
    path = document.path.lower()
    return (
        path == wanted
        or path.endswith("/" + wanted)
        or f"{document.source.lower()}:{path}" == wanted
        or document.title.strip().lower() == wanted
    )


def hit_rank(*, gold: Sequence[str], retrieved: Sequence[Retrieved]) -> int | None:
    for rank, document in enumerate(retrieved, start=1):
        if any(matches(gold=name, document=document) for name in gold):
            return rank
    return None


def fact_found(*, fact: str, answer: str) -> bool:
    if fact.startswith(cases_module.FACT_PATTERN_PREFIX):
        pattern = fact.removeprefix(cases_module.FACT_PATTERN_PREFIX)
        return re.search(pattern, answer, re.IGNORECASE) is not None
    return fact.casefold() in answer.casefold()


def score(
    *,
    case: cases_module.Case,
    k: int,
    retrieved: Sequence[Retrieved],
    answer: str | None,
    covered: bool | None,
    grade: float | None,
    error: str,
    latency_ms: int,
    input_tokens: int,
    output_tokens: int,
    grading_tokens: int = 0,
) -> CaseResult:
    """One case's result; ``answer`` and ``covered`` are None when the model gave no answer."""
    rank = hit_rank(gold=case.gold_sources, retrieved=retrieved)
    hit = None if not case.gold_sources else rank is not None and rank <= k
    text = answer or ""
    missing = tuple(fact for fact in case.required_facts if not fact_found(fact=fact, answer=text))
    answered = answer is not None
    coverage_ok = answered and covered is (not case.expect_not_covered)
    facts_ok = (grade >= PASS_GRADE) if grade is not None else not missing
    passed = answered and coverage_ok and hit is not False and facts_ok
    return CaseResult(
        key=case.key,
        question=case.question,
        gold_sources=case.gold_sources,
        required_facts=case.required_facts,
        expect_not_covered=case.expect_not_covered,
        eval_case_id=case.eval_case_id,
        retrieved=tuple(retrieved),
        hit_rank=rank,
        hit=hit,
        missing_facts=missing,
        grade=grade,
        covered=covered,
        coverage_ok=coverage_ok,
        passed=passed,
        answer=text,
        error=error,
        latency_ms=latency_ms,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        grading_tokens=grading_tokens,
    )


def facts_ok(result: CaseResult) -> bool:
    return (result.grade >= PASS_GRADE) if result.grade is not None else not result.missing_facts


def _percentile(values: Sequence[int], fraction: float) -> int:
    if not values:
        return 0
    if len(values) == 1:
        return values[0]
    cut = statistics.quantiles(values, n=100, method="inclusive")
    return round(cut[round(fraction * 100) - 1])


def totals(*, results: Sequence[CaseResult]) -> Totals:
    gold = [result for result in results if result.hit is not None]
    hits = sum(1 for result in gold if result.hit)
    with_facts = [result for result in results if result.required_facts or result.grade is not None]
    expected_nc = [result for result in results if result.expect_not_covered]
    latencies = [result.latency_ms for result in results]
    return Totals(
        cases=len(results),
        passed=sum(1 for result in results if result.passed),
        gold_cases=len(gold),
        hits=hits,
        hit_rate=hits / len(gold) if gold else None,
        fact_cases=len(with_facts),
        facts_ok=sum(1 for result in with_facts if facts_ok(result)),
        expected_not_covered=len(expected_nc),
        said_not_covered=sum(1 for result in expected_nc if result.covered is False),
        errors=sum(1 for result in results if result.error),
        input_tokens=sum(result.input_tokens for result in results),
        output_tokens=sum(result.output_tokens for result in results),
        grading_tokens=sum(result.grading_tokens for result in results),
        latency_ms=sum(latencies),
        latency_p50_ms=_percentile(latencies, 0.5),
        latency_p95_ms=_percentile(latencies, 0.95),
    )
