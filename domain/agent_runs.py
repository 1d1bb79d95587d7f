"""What an agent call cost and how it ended, recorded for every run (answers, release notes)."""

import dataclasses
import datetime as dt

from data import models


@dataclasses.dataclass(frozen=True, kw_only=True)
class AgentRunRecord:
    agent: str
    model: str
    input_tokens: int
    output_tokens: int
    latency_ms: int
    outcome: str  # one of models.AgentRun.Outcome
    error: str
    started_at: dt.datetime


def save(
    *,
    runs: list[AgentRunRecord],
    question_id: int | None = None,
    release_notes_id: int | None = None,
) -> None:
    """Write the runs; call inside the caller's atomic block."""
    models.AgentRun.objects.bulk_create(
        models.AgentRun(
            question_id=question_id,
            release_notes_id=release_notes_id,
            agent=run.agent,
            model=run.model,
            input_tokens=run.input_tokens,
            output_tokens=run.output_tokens,
            latency_ms=run.latency_ms,
            outcome=run.outcome,
            error=run.error,
            started_at=run.started_at,
        )
        for run in runs
    )
