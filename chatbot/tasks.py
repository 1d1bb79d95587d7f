"""Background jobs (procrastinate autodiscovers this module).

Each job runs in its own ThreadSensitiveContext with connections closed around it
(``chatbot.jobs``). Jobs are safe to run again: a failed or stalled job is retried, and the
answer use case only does what an earlier run left undone, so nobody gets a message twice.
"""

import logging

from procrastinate import App, JobContext, RetryStrategy
from procrastinate.contrib.django import app
from procrastinate.jobs import Job, Status

from application import greeting
from application.answering import again, pipeline
from application.answering import messenger as messenger_module
from application.knowledge import ingestion
from application.knowledge import search as knowledge_search
from chatbot import jobs, messengers, slack_client, slack_payloads
from domain.questions import slack_events

logger = logging.getLogger(__name__)

# Database or Slack outages: try again after 2, 4, 8, 16 ... seconds, for a few minutes.
ANSWER_RETRY = RetryStrategy(max_attempts=8, exponential_wait=2)
# Re-ingesting is idempotent: a run cut short by a worker's death is worth one more go.
REINGEST_RETRY = RetryStrategy(max_attempts=1, wait=30)


def _messenger_for(conversation: messenger_module.Conversation) -> messenger_module.Messenger:
    if not conversation.channel_id:
        return messengers.SilentMessenger()
    return messengers.SlackMessenger(
        client=slack_client.web_client(shared_session=True), conversation=conversation
    )


@app.task(name="answer_slack_event", retry=ANSWER_RETRY)
async def answer_slack_event(slack_event_id: int) -> None:
    """Answer the question in a stored Slack event, in its thread (or greet a new pane)."""
    stored = await slack_events.get(id=slack_event_id)
    if stored.event_type == "assistant_thread_started":
        conversation = slack_payloads.assistant_thread_conversation(payload=stored.payload)
        await greeting.greet(stored=stored, messenger=_messenger_for(conversation))
        return
    incoming = slack_payloads.incoming_from_payload(
        payload=stored.payload, slack_event_id=stored.id
    )
    await pipeline.answer(
        incoming=incoming,
        messenger=_messenger_for(incoming.conversation),
        search=knowledge_search.search,
    )


@app.task(name="answer_again", retry=ANSWER_RETRY)
async def answer_again(question_id: int) -> None:
    """A new answer beside the old one, delivered in the question's thread (from the admin)."""
    await again.answer_again(
        question_id=question_id, make_messenger=_messenger_for, search=knowledge_search.search
    )


@app.task(name="reingest_source", retry=REINGEST_RETRY)
async def reingest_source(source_id: int) -> None:
    """Re-read a documentation source from its root (the admin's re-ingest action)."""
    await ingestion.reingest_source(source_id=source_id)


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
    return retried


def _attempts_left(*, app: App, job: Job) -> bool:
    """As procrastinate decides after an exception: ``max_attempts`` retries, none without
    a retry strategy."""
    task = app.tasks.get(job.task_name)
    strategy = task.retry_strategy if task else None
    if not isinstance(strategy, RetryStrategy):
        return False
    return strategy.max_attempts is None or job.attempts < strategy.max_attempts
