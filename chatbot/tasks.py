"""Background jobs (procrastinate autodiscovers this module).

Each job runs in its own ThreadSensitiveContext with connections closed around it
(``chatbot.jobs``). Jobs are safe to run again: a failed or stalled job is retried, and the
answer use case only does what an earlier run left undone, so nobody gets a message twice.

The use cases are imported inside the jobs, where they are used: procrastinate imports this
module whenever Django starts (``manage.py help`` included), and the answer pipeline brings
pydantic-ai and slack_sdk, which take seconds to import.
"""

import json
import logging
from collections.abc import Sequence
from typing import Any

from procrastinate import App, JobContext, RetryStrategy
from procrastinate.contrib.django import app
from procrastinate.jobs import Job, Status

from application.answering import messenger as messenger_module
from chatbot import jobs

logger = logging.getLogger(__name__)

# Database or Slack outages: try again after 2, 4, 8, 16 ... seconds, for a few minutes.
ANSWER_RETRY = RetryStrategy(max_attempts=8, exponential_wait=2)
# Re-ingesting is idempotent: a run cut short by a worker's death is worth one more go.
REINGEST_RETRY = RetryStrategy(max_attempts=1, wait=30)


def _messenger_for(conversation: messenger_module.Conversation) -> messenger_module.Messenger:
    from chatbot import local_messengers, messengers, private_messenger, slack_client

    if conversation.private:
        if not conversation.response_url:  # answered again from the admin: nowhere to send
            return local_messengers.SilentMessenger()
        return private_messenger.PrivateMessenger(
            response_url=conversation.response_url, conversation=conversation
        )
    if not conversation.channel_id:
        return local_messengers.SilentMessenger()
    return messengers.SlackMessenger(
        client=slack_client.web_client(shared_session=True), conversation=conversation
    )


@app.task(name="answer_slack_event", retry=ANSWER_RETRY, pass_context=True)
async def answer_slack_event(context: JobContext, slack_event_id: int) -> None:
    """Answer the question in a stored Slack event, in its thread (or greet a new pane).

    After the last attempt the asker is told and the question is FAILED with the error.
    """
    try:
        await answer_event(slack_event_id=slack_event_id)
    except Exception as error:
        assert context.job is not None
        if not _attempts_left(app=context.app, job=context.job):
            await _give_up(
                slack_event_id=slack_event_id,
                error=f"gave up after {context.job.attempts + 1} attempts: {error!r}",
            )
        raise


async def answer_event(*, slack_event_id: int) -> None:
    """One run of :func:`answer_slack_event`, without the worker's bookkeeping."""
    from application.inbox import handling
    from chatbot import slack_home, slack_payloads

    await handling.handle(
        slack_event_id=slack_event_id,
        interpret=slack_payloads.interpret,
        make_messenger=_messenger_for,
        publish_home=slack_home.publish,
    )


async def _give_up(*, slack_event_id: int, error: str) -> None:
    """After the last attempt: the question FAILED with the error, and the asker told."""
    from application.inbox import handling
    from chatbot import slack_payloads

    try:
        await handling.give_up(
            slack_event_id=slack_event_id,
            interpret=slack_payloads.interpret,
            make_messenger=_messenger_for,
            error=error,
        )
    except Exception:
        logger.exception("Could not record giving up on Slack event %s", slack_event_id)


@app.task(name="answer_again", retry=ANSWER_RETRY)
async def answer_again(question_id: int, requested_at: str | None = None) -> None:
    """A new answer beside the old one, delivered in the question's thread (from the admin)."""
    import datetime as dt

    from application.answering import again

    await again.answer_again(
        question_id=question_id,
        requested_at=dt.datetime.fromisoformat(requested_at) if requested_at else None,
        make_messenger=_messenger_for,
    )


def queue_answer_again(question_ids: Sequence[int]) -> None:
    """Defer :func:`answer_again` for each question, stamped with the time of the request.

    The jobs of one question run one after another (a procrastinate ``lock``), and a job
    finds an answer given since its request already there: so a double click, or a POST the
    browser sent twice, gives one new answer.
    """
    from django.utils import timezone

    requested_at = timezone.now().isoformat()
    for pk in question_ids:
        answer_again.configure(lock=f"question-{pk}").defer(
            question_id=pk, requested_at=requested_at
        )


@app.task(name="notify_escalation", retry=ANSWER_RETRY)
async def notify_escalation(escalation_id: int) -> None:
    """Post an "Ask a person" request where people help, and say so in the thread."""
    from application import escalations
    from chatbot import slack_client, slack_escalations

    await escalations.notify(
        escalation_id=escalation_id,
        notifier=slack_escalations.SlackNotifier(
            client=slack_client.web_client(shared_session=True)
        ),
    )


def queue_escalation(escalation_id: int) -> None:
    """Defer :func:`notify_escalation`; inside the caller's transaction (Django's connection)."""
    notify_escalation.defer(escalation_id=escalation_id)


@app.task(name="reingest_source", retry=REINGEST_RETRY)
async def reingest_source(source_id: int) -> None:
    """Sync a documentation source: its folder, web site or git repository (the admin's
    "sync now" action, and the scheduler's)."""
    from application.knowledge import sources

    try:
        await sources.sync(source_id=source_id)
    except sources.SourceNotFound:
        logger.info("Source %s was deleted before its sync ran", source_id)


def queue_reingest(source_ids: Sequence[int]) -> None:
    """Defer :func:`reingest_source` for each source, in one statement."""
    jobs: list[dict[str, Any]] = [{"source_id": pk} for pk in source_ids]
    reingest_source.batch_defer(*jobs)


# Daily, at a quiet hour: questions older than CHATBOT_RETENTION_DAYS lose their words and
# people (application/retention.py); a missed day is caught up the next.
@app.periodic(cron="17 3 * * *", periodic_id="forget_old_questions")
@app.task(name="forget_old_questions", queueing_lock="forget_old_questions")
async def forget_old_questions(timestamp: int) -> None:
    from application import retention

    forgotten = await retention.forget_old()
    if forgotten.questions or forgotten.events:
        logger.info(
            "Retention: forgot %s questions, deleted %s inbox events",
            forgotten.questions,
            forgotten.events,
        )


def _queue_scheduled_syncs(source_ids: list[int]) -> None:
    """Inside the claim's transaction: one sync job per source, unless one is still queued
    (its queueing lock; a savepoint keeps the refusal from aborting the transaction)."""
    from django.db import transaction
    from procrastinate import exceptions

    for pk in source_ids:
        try:
            with transaction.atomic():
                reingest_source.configure(queueing_lock=f"source-{pk}").defer(source_id=pk)
        except exceptions.AlreadyEnqueued:
            logger.info("A sync of source %s is already queued", pk)


@app.periodic(cron="* * * * *", periodic_id="sync_scheduled_sources")
@app.task(name="sync_scheduled_sources", queueing_lock="sync_scheduled_sources")
async def sync_scheduled_sources(timestamp: int) -> None:
    """Every minute: queue a sync of each source whose schedule says it is due."""
    from application.knowledge import sources

    await sources.queue_scheduled(queue=_queue_scheduled_syncs)


# Every few seconds (a sixth cron field), so a job whose worker died is running again soon
# after it counts as stalled (chatbot/jobs.py). A worker that starts defers the latest tick at
# once (procrastinate's periodic deferrer), so starting one also checks.
@app.periodic(cron=f"* * * * * */{jobs.STALLED_CHECK_SECONDS}", periodic_id="retry_stalled_jobs")
@app.task(name="retry_stalled_jobs", queueing_lock="retry_stalled_jobs", pass_context=True)
async def retry_stalled_jobs(context: JobContext, timestamp: int) -> None:
    """Give jobs whose worker died (no heartbeat) to another worker."""
    await retry_stalled(app=context.app)


async def retry_stalled(*, app: App) -> int:
    """Retry stalled jobs that have attempts left; fail the others. Returns how many retried.

    A stalled run counts as an attempt, like a failed one: a job that kills its worker (memory,
    a crash in a library) would otherwise take down one worker after another, forever.
    """
    manager = app.job_manager
    stalled = list(
        await manager.get_stalled_jobs(seconds_since_heartbeat=jobs.STALLED_AFTER_SECONDS)
    )
    retried = 0
    for job in stalled:
        if _attempts_left(app=app, job=job):
            logger.warning(
                "Retrying stalled job %s (%s), attempt %s", job.id, job.task_name, job.attempts + 2
            )
            await manager.retry_job(job)
            retried += 1
        else:
            logger.error(
                "Job %s (%s) stalled on its last attempt (%s runs): marked failed",
                job.id,
                job.task_name,
                job.attempts + 1,
            )
            await manager.finish_job(job, status=Status.FAILED, delete_job=False)
            if job.task_name == answer_slack_event.name:
                # The stalled-jobs query hands the arguments over as JSON text.
                kwargs = job.task_kwargs
                kwargs = json.loads(kwargs) if isinstance(kwargs, str) else kwargs
                await _give_up(
                    slack_event_id=int(str(kwargs["slack_event_id"])),
                    error=f"gave up: its worker died on all {job.attempts + 1} attempts",
                )
    return retried


def _attempts_left(*, app: App, job: Job) -> bool:
    """As procrastinate decides after an exception: ``max_attempts`` retries, none without
    a retry strategy."""
    task = app.tasks.get(job.task_name)
    strategy = task.retry_strategy if task else None
    if not isinstance(strategy, RetryStrategy):
        return False
    return strategy.max_attempts is None or job.attempts < strategy.max_attempts
