"""The one way to run an agent: a timeout, retries with backoff, usage and a record per attempt.

Answering and release notes both call :func:`run`, and pydantic-ai is the only way to reach a
model. A failed run never raises here: the caller gets ``output=None`` with the records and
the last error, and decides its own fallback (an apology, the offline entries).

The settings mean the same thing everywhere:

- ``CHATBOT_MODEL_TIMEOUT``: seconds one attempt may take;
- ``CHATBOT_MODEL_RETRIES``: attempts after the first when one fails with an error or times
  out. Output the model keeps getting wrong is sent back to it by the agent itself (each
  agent's own ``retries``), so it is not tried again here, and nor is a run over its limits;
- ``CHATBOT_MODEL_RETRY_BACKOFF``: seconds before the first retry, doubling each time;
- ``CHATBOT_MODEL_REQUEST_LIMIT`` and ``CHATBOT_MODEL_TOKEN_LIMIT``: each attempt's limits.
"""

import asyncio
import dataclasses
import functools
import logging
import time
from collections.abc import Sequence

from django.conf import settings
from django.utils import timezone
from pydantic_ai import Agent, UsageLimitExceeded, UsageLimits
from pydantic_ai import models as models_module
from pydantic_ai.agent import EventStreamHandler
from pydantic_ai.exceptions import UnexpectedModelBehavior
from pydantic_ai.messages import ModelMessage
from pydantic_ai.models import Model
from pydantic_ai.settings import ModelSettings
from pydantic_ai.usage import RunUsage

from application import metrics
from data import models
from domain import agent_runs

logger = logging.getLogger(__name__)

OFFLINE = "offline"  # the model name that needs no provider


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelRun[OutputT]:
    output: OutputT | None  # None when every attempt failed
    records: list[agent_runs.AgentRunRecord]  # one per attempt
    requests: int  # model requests over all attempts (the agent's own retries included)
    error: str  # the last attempt's error, "" on success


@functools.cache
def model_named(name: str, *, offline_model: type[Model] | None = None) -> Model:
    """One model object per name: building a provider client per run is slow."""
    if name == OFFLINE:
        if offline_model is None:
            raise ValueError("this agent has no offline model")
        return offline_model()
    return models_module.infer_model(name)


def _outcome_of(error: Exception) -> models.AgentRun.Outcome:
    if isinstance(error, TimeoutError):
        return models.AgentRun.Outcome.TIMEOUT
    if isinstance(error, UnexpectedModelBehavior):
        return models.AgentRun.Outcome.INVALID_OUTPUT
    return models.AgentRun.Outcome.ERROR


async def run[DepsT, OutputT](
    *,
    agent: Agent[DepsT, OutputT],
    prompt: str,
    deps: DepsT,
    model_name: str,
    offline_model: type[Model] | None = None,
    history: Sequence[ModelMessage] = (),
    event_stream_handler: EventStreamHandler[DepsT] | None = None,
) -> ModelRun[OutputT]:
    """Run ``agent`` on ``prompt``; ``deps`` is shared by the attempts.

    ``event_stream_handler`` gets the model's events as they stream (a model that streams is
    then asked to); it must not wait, since it runs inside the timeout.
    """
    offline = model_name == OFFLINE
    model_settings = (
        None
        if offline
        # Our loop owns retrying (with backoff and a record per attempt), not the SDK's.
        else ModelSettings(timeout=settings.CHATBOT_MODEL_TIMEOUT, max_retries=0)
    )
    records: list[agent_runs.AgentRunRecord] = []
    requests = 0
    attempts = 1 + max(0, settings.CHATBOT_MODEL_RETRIES)
    for attempt in range(1, attempts + 1):
        usage = RunUsage()
        started_at, began = timezone.now(), time.perf_counter()
        output: OutputT | None = None
        final = False
        try:
            # Inside the try: a model name that cannot be resolved fails the run, not the job.
            model = model_named(model_name, offline_model=offline_model)
            async with asyncio.timeout(settings.CHATBOT_MODEL_TIMEOUT):
                result = await agent.run(
                    prompt,
                    model=model,
                    deps=deps,
                    message_history=list(history),
                    model_settings=model_settings,
                    usage=usage,
                    usage_limits=UsageLimits(
                        request_limit=settings.CHATBOT_MODEL_REQUEST_LIMIT,
                        total_tokens_limit=settings.CHATBOT_MODEL_TOKEN_LIMIT,
                    ),
                    event_stream_handler=None if offline else event_stream_handler,
                )
            output, outcome, error = result.output, models.AgentRun.Outcome.OK, ""
        except Exception as failure:
            outcome, error = _outcome_of(failure), f"{type(failure).__name__}: {failure}".strip()
            logger.warning(
                "Agent %s attempt %s/%s failed: %s", agent.name, attempt, attempts, error
            )
            final = isinstance(failure, UsageLimitExceeded | UnexpectedModelBehavior)
        requests += usage.requests
        records.append(
            agent_runs.AgentRunRecord(
                agent=agent.name or "agent",
                model=model_name,
                input_tokens=usage.input_tokens or 0,
                output_tokens=usage.output_tokens or 0,
                latency_ms=int((time.perf_counter() - began) * 1000),
                outcome=outcome,
                error=error[:2000],
                started_at=started_at,
            )
        )
        metrics.record_model_run(
            model=model_name,
            outcome=str(outcome).lower(),
            input_tokens=records[-1].input_tokens,
            output_tokens=records[-1].output_tokens,
        )
        if output is not None:
            return ModelRun(output=output, records=records, requests=requests, error="")
        if final or attempt == attempts:
            break
        await asyncio.sleep(settings.CHATBOT_MODEL_RETRY_BACKOFF * 2 ** (attempt - 1))
    return ModelRun(output=None, records=records, requests=requests, error=error)
