"""``manage.py slack_manifest --url https://bot.example.com`` (or ``--socket-mode``): the Slack
app manifest for this deployment, to paste into "Create New App → From a manifest"."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chatbot import slack_manifest


class Command(BaseCommand):
    help = "Print the Slack app manifest for this deployment's address, or for Socket Mode."

    def add_arguments(self, parser: CommandParser) -> None:
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument(
            "--url", help="The server's public address, e.g. https://bot.example.com"
        )
        where.add_argument(
            "--socket-mode",
            action="store_true",
            help="No public address: Slack sends events over the app's WebSocket.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            text = slack_manifest.manifest(
                url=options["url"] or "", socket_mode=options["socket_mode"]
            )
        except slack_manifest.BadURL as error:
            raise CommandError(str(error)) from None
        self.stdout.write(text, ending="")
