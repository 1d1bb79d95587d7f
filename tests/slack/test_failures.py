"""Whatever fails, the asker hears something, nothing is posted twice, and the record says why."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from procrastinate.contrib.django import app as job_app
from procrastinate.contrib.django.models import ProcrastinateJob

from application.answering import delivery
from chatbot import tasks
from data import models
from tests.slack.conftest import event_callback, mention, post_signed, run_worker_until_idle

pytestmark = pytest.mark.django_db(transaction=True)

THREAD = "1700000000.000100"


async def _apologised_and_failed(fake_slack, *, outcome: str) -> models.Question:
    """The asker got the apology, the question is FAILED, and every model try is on record."""
    [reply] = fake_slack.replies(thread_ts=THREAD)
    assert reply.text.startswith("Sorry, I couldn't come up with an answer")
    question = await models.Question.objects.aget()
    assert question.status == models.Question.Status.FAILED
    outcomes = [
        run.outcome async for run in models.AgentRun.objects.filter(agent="answer").order_by("id")
    ]
    assert outcomes == [outcome] * 4  # the first try and CHATBOT_MODEL_RETRIES=3 retries
    assert await models.Answer.objects.acount() == 0
    return question


async def test_a_failing_model_leads_to_an_apology_and_a_failed_question(fake_slack, fake_openai):
    fake_openai.failures = 100

    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()

    question = await _apologised_and_failed(fake_slack, outcome=models.AgentRun.Outcome.ERROR)
    assert "fake model is down" in question.error


async def test_a_model_that_recovers_within_the_retries_still_answers(fake_slack, fake_openai):
    fake_openai.failures = 2

    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()

    [reply] = fake_slack.replies(thread_ts=THREAD)
    assert "make rollback" in reply.text
    question = await models.Question.objects.aget()
    assert question.status == models.Question.Status.ANSWERED
    outcomes = [
        run.outcome
        async for run in models.AgentRun.objects.filter(agent="answer").order_by("started_at", "id")
    ]
    assert outcomes.count(models.AgentRun.Outcome.OK) == 1


async def test_a_rate_limited_slack_call_is_retried_after_retry_after(fake_slack):
    fake_slack.rate_limited["chat.startStream"] = 1
    fake_slack.retry_after = 1

    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()

    first, second = fake_slack.calls_to("chat.startStream")
    assert second.at - first.at >= 1.0
    assert len(fake_slack.replies(thread_ts=THREAD)) == 1
    assert (await models.Question.objects.aget()).status == models.Question.Status.ANSWERED


async def test_a_model_that_times_out_is_retried_then_the_asker_gets_an_apology(
    fake_slack, fake_openai, settings
):
    settings.CHATBOT_MODEL_TIMEOUT = 0.3
    fake_openai.delay = 1.0

    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()

    await _apologised_and_failed(fake_slack, outcome=models.AgentRun.Outcome.TIMEOUT)


async def test_a_slack_call_that_loses_its_connection_is_retried(fake_slack):
    fake_slack.disconnects["chat.startStream"] = 1

    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()

    assert len(fake_slack.calls_to("chat.startStream")) == 2
    [reply] = fake_slack.replies(thread_ts=THREAD)
    assert "make rollback" in reply.text
    assert (await models.Question.objects.aget()).status == models.Question.Status.ANSWERED


async def test_a_rate_limited_live_update_does_not_count_against_the_model_s_time(
    fake_slack, fake_openai, settings
):
    settings.CHATBOT_MODEL_TIMEOUT = 2.0  # the model needs about 1 s of it
    settings.CHATBOT_MODEL_RETRIES = 0
    fake_openai.stream_pause = 0.08
    fake_slack.rate_limited["chat.appendStream"] = 1
    fake_slack.retry_after = 3

    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()

    question = await models.Question.objects.aget()
    assert question.status == models.Question.Status.ANSWERED
    outcomes = [run.outcome async for run in models.AgentRun.objects.filter(agent="answer")]
    assert outcomes == [models.AgentRun.Outcome.OK]
    [reply] = fake_slack.replies(thread_ts=THREAD)
    assert reply.text == (await models.Answer.objects.aget()).text
    assert any(block.get("block_id") == "feedback" for block in reply.blocks)
    first_append, *_ = fake_slack.calls_to("chat.appendStream")
    [stop] = fake_slack.calls_to("chat.stopStream")
    # The final message waited for the rate-limited update; nothing reached Slack after it.
    assert stop.at - first_append.at >= 3.0
    assert all(call.at < stop.at for call in fake_slack.calls_to("chat.appendStream"))


async def test_an_undelivered_answer_is_stored_and_delivered_once_later(fake_slack):
    fake_slack.refuse["chat.startStream"] = "not_allowed"
    fake_slack.refuse["chat.postMessage"] = "channel_not_found"

    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()

    question = await models.Question.objects.aget()
    assert question.status == models.Question.Status.UNDELIVERED
    assert "channel_not_found" in question.error
    answer = await models.Answer.objects.aget()
    assert answer.delivered_at is None

    # Slack is back; the job's retry runs (here directly rather than after its backoff).
    fake_slack.refuse.clear()
    event = await models.SlackEvent.objects.aget()
    await tasks.answer_event(slack_event_id=event.pk)
    await tasks.answer_event(slack_event_id=event.pk)

    assert len(fake_slack.replies(thread_ts=THREAD)) == 1
    await answer.arefresh_from_db()
    assert answer.delivered_at is not None
    assert (await models.Question.objects.aget()).status == models.Question.Status.ANSWERED
    assert await models.Answer.objects.acount() == 1


async def test_a_job_killed_while_streaming_is_finished_by_the_retry_without_a_second_message(
    fake_slack,
):
    fake_slack.hold["chat.stopStream"] = asyncio.Event()
    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    event = await models.SlackEvent.objects.aget()

    first_run = asyncio.create_task(tasks.answer_event(slack_event_id=event.pk))
    reached = fake_slack.reached.setdefault("chat.stopStream", asyncio.Event())
    await asyncio.wait_for(reached.wait(), timeout=30)
    first_run.cancel()  # the worker dies half-way through the stream
    fake_slack.hold.pop("chat.stopStream").set()
    with pytest.raises(asyncio.CancelledError):
        await first_run

    await tasks.answer_event(slack_event_id=event.pk)

    [reply] = fake_slack.replies(thread_ts=THREAD)
    assert "make rollback" in reply.text
    assert any(block.get("block_id") == "feedback" for block in reply.blocks)
    assert len(fake_slack.calls_to("chat.startStream")) == 1
    assert [call.params["ts"] for call in fake_slack.calls_to("chat.update")] == [reply.ts]
    assert (await models.Question.objects.aget()).status == models.Question.Status.ANSWERED


def _mark_doing_without_worker(job_id: int) -> None:
    """What a worker that died half-way leaves behind: a job 'doing' with no live worker."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_jobs SET status = 'doing', worker_id = NULL WHERE id = %s",
            [job_id],
        )


async def test_a_stalled_job_is_picked_up_again_and_completes_its_message_once(fake_slack):
    fake_slack.hold["chat.stopStream"] = asyncio.Event()
    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    event = await models.SlackEvent.objects.aget()
    job = await ProcrastinateJob.objects.aget(task_name="answer_slack_event")

    dying_worker = asyncio.create_task(tasks.answer_event(slack_event_id=event.pk))
    reached = fake_slack.reached.setdefault("chat.stopStream", asyncio.Event())
    await asyncio.wait_for(reached.wait(), timeout=30)
    dying_worker.cancel()
    fake_slack.hold.pop("chat.stopStream").set()
    await asyncio.gather(dying_worker, return_exceptions=True)
    await sync_to_async(_mark_doing_without_worker, thread_sensitive=True)(job.pk)

    assert await tasks.retry_stalled(app=job_app) == 1
    await run_worker_until_idle()

    [reply] = fake_slack.replies(thread_ts=THREAD)
    assert any(block.get("block_id") == "feedback" for block in reply.blocks)
    assert len(fake_slack.calls_to("chat.startStream")) == 1
    await job.arefresh_from_db()
    assert job.status == "succeeded"


def _running_on_a_worker_silent_for(job_id: int, seconds: float) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) "
            "VALUES (now() - make_interval(secs => %s)) RETURNING id",
            [seconds],
        )
        [worker_id] = cursor.fetchone()
        cursor.execute(
            "UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s WHERE id = %s",
            [worker_id, job_id],
        )
    return worker_id


def _forget_worker(worker_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_workers WHERE id = %s", [worker_id])


@pytest.mark.parametrize(("silent_for", "retried"), [(8, 0), (16, 1)])
async def test_a_job_is_taken_from_a_worker_silent_for_fifteen_seconds(
    fake_slack, silent_for, retried
):
    """After a kill -9 the answer comes within about 20 s, not 1 to 2 minutes: heartbeats
    every 3 s, a worker silent for 15 s is dead, and the check runs every 3 s."""
    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    job = await ProcrastinateJob.objects.aget(task_name="answer_slack_event")
    run_on = sync_to_async(_running_on_a_worker_silent_for, thread_sensitive=True)
    worker_id = await run_on(job.pk, silent_for)

    try:
        assert await tasks.retry_stalled(app=job_app) == retried
    finally:
        await sync_to_async(_forget_worker, thread_sensitive=True)(worker_id)
    assert job_app.worker_defaults["update_heartbeat_interval"] == 3
    [check] = [
        periodic
        for periodic in job_app.periodic_registry.periodic_tasks.values()
        if periodic.task.name == "retry_stalled_jobs"
    ]
    assert check.cron == "* * * * * */3"


async def test_a_job_that_keeps_killing_its_worker_is_failed_after_its_last_attempt(
    fake_slack, caplog
):
    """A poison job (it takes its worker down every time) must not make the rounds forever."""
    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    job = await ProcrastinateJob.objects.aget(task_name="answer_slack_event")
    retries = 0
    while True:
        await sync_to_async(_mark_doing_without_worker, thread_sensitive=True)(job.pk)
        if not await tasks.retry_stalled(app=job_app):
            break
        retries += 1
        assert retries <= 20, "retried without end"

    assert retries == tasks.ANSWER_RETRY.max_attempts  # as many as after exceptions
    await job.arefresh_from_db()
    assert job.status == "failed"
    assert f"Job {job.pk} (answer_slack_event) stalled on its last attempt (9 runs)" in (
        caplog.text
    )
    assert await tasks.retry_stalled(app=job_app) == 0  # a failed job stays failed


async def test_a_failed_answer_again_keeps_the_earlier_answer_and_its_status(
    fake_slack, fake_openai
):
    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()
    question = await models.Question.objects.aget()
    fake_openai.failures = 100

    await job_app.configure_task(name="answer_again").defer_async(question_id=question.pk)
    await run_worker_until_idle()

    await question.arefresh_from_db()
    assert question.status == models.Question.Status.ANSWERED
    assert "fake model is down" in question.error
    assert await models.Answer.objects.acount() == 1
    assert fake_slack.replies(thread_ts=THREAD)[-1].text.startswith("Sorry")


async def test_a_job_killed_while_the_model_was_still_writing_is_answered_into_the_same_message(
    fake_slack, fake_openai
):
    fake_openai.stream_pause = 0.1
    fake_slack.hold["chat.appendStream"] = asyncio.Event()
    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    event = await models.SlackEvent.objects.aget()

    first_run = asyncio.create_task(tasks.answer_event(slack_event_id=event.pk))
    reached = fake_slack.reached.setdefault("chat.appendStream", asyncio.Event())
    await asyncio.wait_for(reached.wait(), timeout=30)
    first_run.cancel()
    fake_slack.hold.pop("chat.appendStream").set()
    await asyncio.gather(first_run, return_exceptions=True)
    unfinished = await models.Answer.objects.aget()
    assert unfinished.text == ""
    assert unfinished.slack_message_ts

    await tasks.answer_event(slack_event_id=event.pk)

    [reply] = fake_slack.replies(thread_ts=THREAD)
    assert reply.ts == unfinished.slack_message_ts
    assert reply.text.startswith("From the docs:")
    assert any(block.get("block_id") == "feedback" for block in reply.blocks)
    answer = await models.Answer.objects.aget()
    assert answer.text == reply.text
    assert answer.delivered_at is not None


async def _kill_the_job_while_it_is_writing(fake_slack, event_id: int) -> models.Answer:
    fake_slack.hold["chat.appendStream"] = asyncio.Event()
    first_run = asyncio.create_task(tasks.answer_event(slack_event_id=event_id))
    reached = fake_slack.reached.setdefault("chat.appendStream", asyncio.Event())
    await asyncio.wait_for(reached.wait(), timeout=30)
    first_run.cancel()  # the worker dies while the answer is half-written
    fake_slack.hold.pop("chat.appendStream").set()
    await asyncio.gather(first_run, return_exceptions=True)
    return await models.Answer.objects.aget()


async def test_a_resumed_answer_whose_model_then_fails_becomes_the_apology(fake_slack, fake_openai):
    fake_openai.stream_pause = 0.1
    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    event = await models.SlackEvent.objects.aget()
    half_written = await _kill_the_job_while_it_is_writing(fake_slack, event.pk)
    fake_openai.failures = 100

    await tasks.answer_event(slack_event_id=event.pk)

    [reply] = fake_slack.replies(thread_ts=THREAD)
    assert reply.ts == half_written.slack_message_ts
    assert reply.text.startswith("Sorry, I couldn't come up with an answer")
    assert reply.stopped
    assert [c.params["ts"] for c in fake_slack.calls_to("chat.stopStream")][-1] == reply.ts
    assert fake_slack.calls_to("chat.postMessage") == []
    question = await models.Question.objects.aget()
    assert question.status == models.Question.Status.FAILED
    assert await models.Answer.objects.acount() == 0


async def test_an_apology_slack_did_not_take_is_sent_by_the_job_s_retry_without_a_new_model_run(
    fake_slack, fake_openai
):
    fake_openai.failures = 100
    fake_slack.refuse["chat.postMessage"] = "fatal_error"

    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()

    question = await models.Question.objects.aget()
    assert question.status == models.Question.Status.FAILED
    assert fake_slack.replies(thread_ts=THREAD) == []
    job = await ProcrastinateJob.objects.aget(task_name="answer_slack_event")
    assert (job.status, job.attempts) == ("todo", 1)  # procrastinate will run it again

    # Slack is back; the job's retry runs (here directly rather than after its backoff).
    fake_slack.refuse.clear()
    model_requests = len(fake_openai.requests)
    event = await models.SlackEvent.objects.aget()
    await tasks.answer_event(slack_event_id=event.pk)

    [reply] = fake_slack.replies(thread_ts=THREAD)
    assert reply.text.startswith("Sorry, I couldn't come up with an answer")
    assert len(fake_openai.requests) == model_requests
    assert (await models.Question.objects.aget()).status == models.Question.Status.FAILED


async def test_a_half_written_answer_becomes_the_apology_even_when_slack_first_refused_it(
    fake_slack, fake_openai
):
    fake_openai.stream_pause = 0.1
    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    event = await models.SlackEvent.objects.aget()
    half_written = await _kill_the_job_while_it_is_writing(fake_slack, event.pk)
    fake_openai.failures = 100
    fake_slack.refuse["chat.update"] = "fatal_error"

    with pytest.raises(delivery.ApologyUndelivered):  # the job fails; procrastinate retries
        await tasks.answer_event(slack_event_id=event.pk)
    fake_slack.refuse.clear()
    await tasks.answer_event(slack_event_id=event.pk)

    [reply] = fake_slack.replies(thread_ts=THREAD)
    assert reply.ts == half_written.slack_message_ts
    assert reply.text.startswith("Sorry, I couldn't come up with an answer")
    assert (await models.Question.objects.aget()).status == models.Question.Status.FAILED
    assert await models.Answer.objects.acount() == 0


async def test_a_model_that_breaks_off_mid_answer_leaves_only_the_apology_in_the_thread(
    fake_slack, fake_openai
):
    fake_openai.stream_pause = 0.1
    fake_openai.broken_streams = 100

    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()

    [reply] = fake_slack.replies(thread_ts=THREAD)
    assert reply.text.startswith("Sorry, I couldn't come up with an answer")
    assert reply.streamed  # the half-written answer was shown live, then replaced
    assert [call.params["ts"] for call in fake_slack.calls_to("chat.update")] == [reply.ts]
    question = await models.Question.objects.aget()
    assert question.status == models.Question.Status.FAILED
    assert await models.Answer.objects.acount() == 0


def _on_last_attempt(job_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_jobs SET attempts = %s WHERE id = %s",
            [tasks.ANSWER_RETRY.max_attempts, job_id],
        )


async def test_after_the_last_attempt_the_asker_is_told_and_the_question_shows_the_error(
    fake_slack,
):
    fake_slack.refuse["chat.startStream"] = "not_allowed"
    fake_slack.server_errors["chat.postMessage"] = 4  # the answer's post and its 3 retries
    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    job = await ProcrastinateJob.objects.aget(task_name="answer_slack_event")
    await sync_to_async(_on_last_attempt, thread_sensitive=True)(job.pk)

    await run_worker_until_idle()

    [reply] = fake_slack.replies(thread_ts=THREAD)
    assert reply.text.startswith("Sorry, I couldn't answer this question")
    question = await models.Question.objects.aget()
    assert question.status == models.Question.Status.FAILED
    assert "gave up after 9 attempts" in question.error
    await job.arefresh_from_db()
    assert job.status == "failed"


async def test_a_job_that_stalls_on_its_last_attempt_tells_the_asker(fake_slack):
    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    job = await ProcrastinateJob.objects.aget(task_name="answer_slack_event")
    await sync_to_async(_on_last_attempt, thread_sensitive=True)(job.pk)
    await sync_to_async(_mark_doing_without_worker, thread_sensitive=True)(job.pk)

    assert await tasks.retry_stalled(app=job_app) == 0

    [reply] = fake_slack.replies(thread_ts=THREAD)
    assert reply.text.startswith("Sorry, I couldn't answer this question")
    question = await models.Question.objects.aget()
    assert question.status == models.Question.Status.FAILED
    assert "its worker died on all 9 attempts" in question.error


async def test_a_model_failing_three_calls_in_ten_ends_every_question_answered_or_apologised_once(
    fake_slack, fake_openai, settings
):
    """Timeouts, 500s, 429s and invalid bodies, mixed: each question ends with one message in
    its thread, the answer or the apology, and a status that says which."""
    settings.CHATBOT_QUESTIONS_PER_MINUTE = 0
    settings.CHATBOT_QUESTIONS_IN_FLIGHT = 0
    settings.CHATBOT_MODEL_TIMEOUT = 1.0
    fake_openai.fault_seconds = 2.5
    fake_openai.stream_pause = 0.0
    fake_openai.fault_cycle = ["", "timeout", "", "500", "", "", "429", "", "invalid", ""] * 2
    fake_openai.fault_cycle[13] = "500"
    fake_openai.fault_cycle[17] = "timeout"
    threads = [f"1700000000.{n:06d}" for n in range(200, 210)]
    for ts in threads:
        await post_signed(
            event_callback(mention("how do I roll back a deploy?", ts=ts), event_id=ts)
        )
    await run_worker_until_idle()

    assert set(fake_openai.faults_served) == {"timeout", "500", "429", "invalid"}
    questions = {q.thread_ts: q async for q in models.Question.objects.all()}
    assert sorted(questions) == threads
    for ts in threads:
        [reply] = fake_slack.replies(thread_ts=ts)
        question = questions[ts]
        if question.status == models.Question.Status.ANSWERED:
            assert "make rollback" in reply.text
            assert await models.Answer.objects.filter(question=question).acount() == 1
        else:
            assert question.status == models.Question.Status.FAILED
            assert reply.text.startswith("Sorry, I couldn't come up with an answer")
    # An answer takes two model calls, both of which must succeed in one attempt: most do.
    assert models.Question.Status.ANSWERED in {q.status for q in questions.values()}
