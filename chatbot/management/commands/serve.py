"""``manage.py serve``: HTTP (uvicorn) and the job worker in one process."""

import asyncio
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from chatbot import server


class Command(BaseCommand):
    help = "Serve chatbot.asgi with uvicorn and run the background job worker in one process."
    # Model checks query the database; a server must start (and report 503 on /healthz)
    # while the database is down. `migrate` runs the checks before `make run` serves.
    requires_system_checks: list[str] = []  # noqa: RUF012 (Django reads it as given)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.HOST)
        parser.add_argument("--port", type=int, default=settings.PORT)
        parser.add_argument(
            "--no-worker", action="store_true", help="Serve HTTP only (run workers elsewhere)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            asyncio.run(
                server.serve(
                    host=options["host"],
                    port=options["port"],
                    with_worker=not options["no_worker"],
                )
            )
        except server.ServerFailed as error:
            # Exit non-zero, so a supervisor restarts the process and the failure is noticed.
            raise CommandError(str(error)) from error
