"""Prometheus metrics: the instruments the code records into, and the exposition for ``/metrics``.

With ``PROMETHEUS_MULTIPROC_DIR`` set (an empty directory shared by every process of a host,
emptied before they start), each process writes its samples there and a scrape of any web
process sums them: model calls made by the workers show on the web process's ``/metrics``.
Questions by outcome and jobs by task are read from the database at scrape time.
"""

import os
from collections.abc import Iterator, Mapping

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from domain import operations_counts

_SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300)

ACK_SECONDS = Histogram(
    "chatbot_slack_ack_seconds",
    "Time to acknowledge a Slack request (POST /slack/events)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
STATUS_SECONDS = Histogram(
    "chatbot_time_to_status_seconds",
    "From a question's message to its first status in Slack",
    buckets=_SECONDS,
)
ANSWER_SECONDS = Histogram(
    "chatbot_time_to_answer_seconds",
    "From a question's message to its delivered answer",
    buckets=_SECONDS,
)
MODEL_CALLS = Counter(
    "chatbot_model_calls", "Model runs (attempts), by model and outcome", ["model", "outcome"]
)
MODEL_TOKENS = Counter(
    "chatbot_model_tokens", "Tokens used, by model and kind (input, output)", ["model", "kind"]
)
SLACK_API_ERRORS = Counter(
    "chatbot_slack_api_errors",
    "Slack Web API calls that failed (connection, rate limited, server error), by kind",
    ["kind"],
)


def record_model_run(*, model: str, outcome: str, input_tokens: int, output_tokens: int) -> None:
    MODEL_CALLS.labels(model=model, outcome=outcome).inc()
    MODEL_TOKENS.labels(model=model, kind="input").inc(input_tokens)
    MODEL_TOKENS.labels(model=model, kind="output").inc(output_tokens)


class _DatabaseCounts(Collector):
    def __init__(self, pool: Mapping[str, int]) -> None:
        self.pool = pool

    def collect(self) -> Iterator[Metric]:
        questions = GaugeMetricFamily(
            "chatbot_questions", "Questions by status (outcome)", labels=["status"]
        )
        for status, count in sorted(operations_counts.questions_by_status().items()):
            questions.add_metric([status], count)
        yield questions
        jobs = GaugeMetricFamily(
            "chatbot_jobs",
            "Jobs queued (todo) and running (doing), by task",
            labels=["task", "state"],
        )
        for (task, state), count in sorted(operations_counts.jobs_by_task_and_status().items()):
            jobs.add_metric([task, state], count)
        yield jobs
        if self.pool:
            pool = GaugeMetricFamily(
                "chatbot_pool_connections",
                "This process's database pool: connections in use, idle, and requests waiting",
                labels=["state"],
            )
            for state in ("in_use", "idle", "waiting"):
                pool.add_metric([state], self.pool.get(state, 0))
            yield pool


def exposition(*, pool: Mapping[str, int]) -> bytes:
    """The text a scrape returns: every process's instruments, then the database's counts."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        instruments = CollectorRegistry()
        MultiProcessCollector(instruments)
    else:
        instruments = REGISTRY
    counts = CollectorRegistry(auto_describe=False)
    counts.register(_DatabaseCounts(pool))
    return generate_latest(instruments) + generate_latest(counts)
