"""``manage.py migrate`` without DATABASE_STATEMENT_TIMEOUT: a migration that rewrites a large
table or builds an index takes as long as it takes, and a timeout half-way would leave it to
be run again. The rest of the command is Django's own."""

from typing import Any

from django.core.management.commands import migrate

from domain import database


class Command(migrate.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        with database.without_statement_timeout():
            super().handle(*args, **options)
