"""``manage.py ask "question"``: the answer use case without Slack, for a quick try.

The status goes to stderr; the answer and its sources go to stdout, so the output can be piped.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from application.answering import delivery, passages, pipeline
from application.answering import messenger as messenger_module
from chatbot import local_messengers, units_of_work
from data import models


class Command(BaseCommand):
    help = "Ask the bot a question from the terminal (answered from the ingested documentation)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("question", nargs="+", help="The question, e.g. how do I deploy?")

    def handle(self, *args: Any, **options: Any) -> None:
        text = " ".join(options["question"]).strip()
        if not text:
            raise CommandError("Ask a question, e.g. manage.py ask 'how do I deploy?'")
        messenger = local_messengers.TerminalMessenger(stdout=self.stdout, stderr=self.stderr)
        incoming = pipeline.Incoming(
            text=text,
            via=models.Question.Channel.TERMINAL,
            asked_at=timezone.now(),
            conversation=messenger_module.Conversation(),
        )

        async def ask() -> delivery.Outcome:
            return await pipeline.answer(
                incoming=incoming, messenger=messenger, search=passages.search
            )

        outcome = units_of_work.run(ask, log_id="ask")
        if outcome.status == models.Question.Status.FAILED:
            raise CommandError(f"no answer (question {outcome.question_id} stored as FAILED)")
