"""Scale-out on real parts: PostgreSQL, PgBouncer in transaction mode, two web processes
(``manage.py serve --no-worker``) behind a round-robin, two workers (``manage.py procrastinate
worker``). A small burst here; ``bench/scale_out.py`` sends 500 beside one ``make run``.

Every question is answered exactly once, PostgreSQL never sees more server connections than
PgBouncer's pool, and a worker killed with SIGKILL mid-answer leaves its jobs to the other.
"""

from pathlib import Path

import httpx
import pytest

from tests import process_faults, scale_out
from tests.fakes.openai import FakeOpenAI
from tests.fakes.slack import FakeSlack

QUESTIONS = 20
POOL_SIZE = 6

pytestmark = pytest.mark.skipif(
    scale_out.find_pgbouncer() is None,
    reason="pgbouncer is not installed (Debian: apt-get install pgbouncer; .ci/run installs it)",
)


async def test_two_webs_two_workers_through_pgbouncer_answer_each_once_after_a_worker_is_killed(
    data_template: Path, tmp_path: Path, fakes: tuple[FakeSlack, FakeOpenAI]
) -> None:
    slack, model = fakes
    model.delay = 2.0  # long enough to kill a worker while questions wait on the model
    layout = scale_out.ScaledOut(
        work=tmp_path,
        template=data_template,
        slack_url=slack.url,
        model_url=model.url,
        pool_size=POOL_SIZE,
    )
    sampler = scale_out.ConnectionSampler(cluster=layout.cluster)
    threads = [process_faults.thread_of(n) for n in range(1, QUESTIONS + 1)]
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            await layout.start(client)
            sampler.start()
            acks = await scale_out.ask_round_robin(
                client, bases=layout.bases, count=QUESTIONS, run="scale"
            )
            await process_faults.wait_in_flight(model, count=QUESTIONS // 2)
            # Workers poll for jobs behind PgBouncer (no LISTEN): one may have taken them all.
            busiest, killed_jobs = layout.busiest_worker()
            layout.workers[busiest].kill()
            result = await process_faults.wait_answered(slack, threads, seconds=120)
            await sampler.stop()
            refused = await client.get(f"{layout.bases[1]}/metrics")
            metrics = await scale_out.scrape(client, base=layout.bases[1])
        statuses = process_faults.question_statuses(data_dir=layout.data_dir)
        killed_statuses = scale_out.job_statuses(cluster=layout.cluster, ids=killed_jobs)
        outputs = layout.outputs()
    finally:
        await sampler.stop()
        layout.stop()

    # Both web processes took their share, and acknowledged every mention.
    assert {base: len(codes) for base, codes in acks.items()} == dict.fromkeys(
        layout.bases, QUESTIONS // 2
    )
    assert all(code == 200 for codes in acks.values() for code in codes)
    assert killed_jobs, "the killed worker was running no answer: the kill came too late"
    assert result.lost == [], outputs
    assert result.doubled == []
    assert statuses == {"ANSWERED": QUESTIONS}
    # The killed worker's jobs were finished by the other one.
    assert killed_statuses == {"succeeded": len(killed_jobs)}
    assert 0 < sampler.peak <= POOL_SIZE
    # /metrics of one web process counts what every process did (PROMETHEUS_MULTIPROC_DIR).
    assert refused.status_code == 403
    assert metrics['chatbot_questions{status="ANSWERED"}'] == QUESTIONS
    assert metrics["chatbot_slack_ack_seconds_count"] == QUESTIONS  # both web processes
    model_calls = metrics['chatbot_model_calls_total{model="openai-chat:fake-model",outcome="ok"}']
    assert model_calls >= QUESTIONS  # made by the workers
    assert metrics["chatbot_time_to_status_seconds_count"] >= QUESTIONS
    assert metrics["chatbot_time_to_answer_seconds_count"] >= QUESTIONS
    assert metrics['chatbot_model_tokens_total{kind="output",model="openai-chat:fake-model"}'] > 0
