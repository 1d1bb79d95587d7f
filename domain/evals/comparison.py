"""A run against an earlier one: what regressed, what got fixed, and how the figures moved.

Cases are matched by their key (a file's ``id``, or the question; an admin case's number).
A regression is a case that passed in the earlier run and fails now. Pure.
"""

import dataclasses
from collections.abc import Sequence

from domain.evals import scoring


@dataclasses.dataclass(frozen=True, kw_only=True)
class CaseChange:
    key: str
    question: str
    passed_before: bool
    passed_now: bool
    hit_before: bool | None
    hit_now: bool | None
    latency_before_ms: int
    latency_now_ms: int

    @property
    def regressed(self) -> bool:
        return self.passed_before and not self.passed_now

    @property
    def fixed(self) -> bool:
        return self.passed_now and not self.passed_before

    @property
    def latency_delta_ms(self) -> int:
        return self.latency_now_ms - self.latency_before_ms


@dataclasses.dataclass(frozen=True, kw_only=True)
class Comparison:
    baseline_run_id: int
    changes: tuple[CaseChange, ...]  # every case in both runs, in this run's order
    regressions: tuple[str, ...]  # keys
    fixed: tuple[str, ...]
    lost_hits: tuple[str, ...]  # a gold source found then, not now
    new_cases: tuple[str, ...]  # only in this run
    dropped_cases: tuple[str, ...]  # only in the earlier run
    passed_before: int  # over the cases in both
    passed_now: int
    hit_rate_before: float | None  # over the cases in both that name gold sources
    hit_rate_now: float | None
    latency_before_ms: int  # sums over the cases in both
    latency_now_ms: int

    @property
    def hit_rate_delta(self) -> float | None:
        if self.hit_rate_before is None or self.hit_rate_now is None:
            return None
        return self.hit_rate_now - self.hit_rate_before

    @property
    def latency_delta_ms(self) -> int:
        return self.latency_now_ms - self.latency_before_ms


def _rate(values: Sequence[bool | None]) -> float | None:
    known = [value for value in values if value is not None]
    return sum(known) / len(known) if known else None


def compare(
    *,
    baseline_run_id: int,
    before: Sequence[scoring.CaseResult],
    now: Sequence[scoring.CaseResult],
) -> Comparison:
    earlier = {result.key: result for result in before}
    current = {result.key for result in now}
    changes = tuple(
        CaseChange(
            key=result.key,
            question=result.question,
            passed_before=earlier[result.key].passed,
            passed_now=result.passed,
            hit_before=earlier[result.key].hit,
            hit_now=result.hit,
            latency_before_ms=earlier[result.key].latency_ms,
            latency_now_ms=result.latency_ms,
        )
        for result in now
        if result.key in earlier
    )
    return Comparison(
        baseline_run_id=baseline_run_id,
        changes=changes,
        regressions=tuple(change.key for change in changes if change.regressed),
        fixed=tuple(change.key for change in changes if change.fixed),
        lost_hits=tuple(
            change.key for change in changes if change.hit_before and change.hit_now is False
        ),
        new_cases=tuple(result.key for result in now if result.key not in earlier),
        dropped_cases=tuple(result.key for result in before if result.key not in current),
        passed_before=sum(change.passed_before for change in changes),
        passed_now=sum(change.passed_now for change in changes),
        hit_rate_before=_rate([change.hit_before for change in changes]),
        hit_rate_now=_rate([change.hit_now for change in changes]),
        latency_before_ms=sum(change.latency_before_ms for change in changes),
        latency_now_ms=sum(change.latency_now_ms for change in changes),
    )
