"""Greet someone who opens the bot in Slack's assistant pane, once.

The inbox lets each Slack event in once, but its job can still run twice (procrastinate retries
a job that failed, or one whose worker died), so the stored event remembers that the greeting
went out. The read happens before the post, and no connection is held while Slack answers.
"""

import datetime as dt

from django.utils import timezone

from application import writes
from application.answering import messenger as messenger_module
from domain.questions import slack_events

GREETING = (
    "Hi! Ask me anything about our documentation. I answer from it, with links to the "
    "sections I used, and say so when it does not cover your question."
)


def _record_greeted(*, slack_event_id: int, now: dt.datetime) -> None:
    slack_events.mark_processed(id=slack_event_id, now=now)


async def greet(*, stored: slack_events.StoredEvent, messenger: messenger_module.Messenger) -> bool:
    """Post the greeting unless an earlier run of the job did; True when this run posted it.

    ``stored`` is the event as just read. Raises :class:`messenger_module.DeliveryFailed`
    (the job's retry posts it then).
    """
    if stored.processed_at is not None:
        return False
    await messenger.say(text=GREETING)
    await writes.write(_record_greeted, slack_event_id=stored.id, now=timezone.now())
    return True
