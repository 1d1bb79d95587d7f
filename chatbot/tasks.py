"""Background jobs (procrastinate autodiscovers this module).

Each job runs in its own ThreadSensitiveContext with connections closed around it
(``chatbot.jobs``). Jobs are safe to run again: a failed or stalled job is retried, and the
answer use case only does what an earlier run left undone, so nobody gets a message twice.
"""

import logging

from procrastinate import JobContext, RetryStrategy
from procrastinate.contrib.django import app
from procrastinate.manager import JobManager

from application import greeting, ingestion, knowledge
from application.answering import again, pipeline
from application.answering import messenger as messenger_module
from chatbot import messengers, slack_client, slack_payloads
from domain.questions import slack_events

logger = logging.getLogger(__name__)

# Database or Slack outages: try again after 2, 4, 8, 16 ... seconds, for a few minutes.
ANSWER_RETRY = RetryStrategy(max_attempts=8, exponential_wait=2)
STALLED_AFTER_SECONDS = 60


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
        search=knowledge.search,
    )


@app.task(name="answer_again", retry=ANSWER_RETRY)
async def answer_again(question_id: int) -> None:
    """A new answer beside the old one, delivered in the question's thread (from the admin)."""
    await again.answer_again(
        question_id=question_id, make_messenger=_messenger_for, search=knowledge.search
    )


@app.task(name="reingest_source")
async def reingest_source(source_id: int) -> None:
    """Re-read a documentation source from its root (the admin's re-ingest action)."""
    await ingestion.reingest_source(source_id=source_id)


@app.periodic(cron="* * * * *", periodic_id="retry_stalled_jobs")
@app.task(name="retry_stalled_jobs", queueing_lock="retry_stalled_jobs", pass_context=True)
async def retry_stalled_jobs(context: JobContext, timestamp: int) -> None:
    """Give jobs whose worker died (no heartbeat) to another worker."""
    await retry_stalled(manager=context.app.job_manager)


async def retry_stalled(*, manager: JobManager) -> int:
    stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_SECONDS)
    for job in stalled:
        logger.warning("Retrying stalled job %s (%s)", job.id, job.task_name)
        await manager.retry_job(job)
    return len(list(stalled))
