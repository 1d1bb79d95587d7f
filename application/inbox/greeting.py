"""Greet someone who opens the bot in Slack's assistant pane, once, with questions to try.

The inbox lets each Slack event in once, but its job can still run twice (procrastinate retries
a job that failed, or one whose worker died), so the stored event remembers that the greeting
went out. The read happens before the post, and no connection is held while Slack answers.
"""

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone

from application import writes
from application.answering import messenger as messenger_module
from domain.knowledge import documents
from domain.questions import slack_events

logger = logging.getLogger(__name__)

GREETING = (
    "Hi! Ask me anything about our documentation. I answer from it, with links to the "
    "sections I used, and say so when it does not cover your question."
)


PROMPTS = 4  # Slack shows up to four
PROMPT_TITLE_LIMIT = 75


async def suggested_prompts() -> list[messenger_module.Prompt]:
    """``CHATBOT_SUGGESTED_PROMPTS`` if set; otherwise a question about each of the documents
    answers cite most (or the largest), so a new person sees what the bot knows about."""
    configured = settings.CHATBOT_SUGGESTED_PROMPTS[:PROMPTS]
    if configured:
        return [_prompt(title=question, message=question) for question in configured]
    titles = await documents.prominent_titles(limit=PROMPTS)
    return [
        _prompt(title=title, message=f"What does our documentation say about {title}?")
        for title in titles
    ]


def _prompt(*, title: str, message: str) -> messenger_module.Prompt:
    if len(title) > PROMPT_TITLE_LIMIT:
        title = title[: PROMPT_TITLE_LIMIT - 1].rstrip() + "…"
    return messenger_module.Prompt(title=title, message=message)


def _record_greeted(*, slack_event_id: int, now: dt.datetime) -> None:
    slack_events.mark_processed(id=slack_event_id, now=now)


async def greet(*, stored: slack_events.StoredEvent, messenger: messenger_module.Messenger) -> bool:
    """Post the greeting unless an earlier run of the job did; True when this run posted it.

    ``stored`` is the event as just read. Raises :class:`messenger_module.DeliveryFailed`
    (the job's retry posts it then).
    """
    if stored.processed_at is not None:
        return False
    prompts = await suggested_prompts()
    await messenger.say(text=GREETING)
    if prompts:
        try:
            await messenger.suggest(prompts=prompts)
        except Exception:
            logger.exception("Could not suggest prompts")  # the greeting stands without them
    await writes.write(_record_greeted, slack_event_id=stored.id, now=timezone.now())
    return True
