"""``manage.py ingest_docs PATH [PATH ...] --source NAME [--base-url URL] [--language CONFIG]
[--prune] [--move]``."""

import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import URLValidator
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from application.knowledge import ingestion
from chatbot import units_of_work


class _Bar:
    """A progress bar on the terminal (stderr), for people watching a long ingest."""

    def __init__(self) -> None:
        self.progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[path]}"),
            console=Console(stderr=True),
            transient=True,
        )
        self.task: TaskID | None = None

    def started(self, *, total: int) -> None:
        self.progress.start()
        self.task = self.progress.add_task("Ingesting", total=total, path="")

    def advanced(self, *, path: str) -> None:
        if self.task is not None:
            self.progress.update(self.task, advance=1, path=path)

    def failed(self, *, path: str, reason: str) -> None:
        self.progress.console.print(f"skipped {path}: {reason}", markup=False, highlight=False)

    def stop(self) -> None:
        self.progress.stop()


class _Lines:
    """Without a terminal: only the skipped files, one line each, on stderr."""

    def __init__(self, command: BaseCommand) -> None:
        self.command = command

    def started(self, *, total: int) -> None:
        pass

    def advanced(self, *, path: str) -> None:
        pass

    def failed(self, *, path: str, reason: str) -> None:
        self.command.stderr.write(f"skipped {path}: {reason}")

    def stop(self) -> None:
        pass


class Command(BaseCommand):
    help = (
        "Ingest Markdown, reStructuredText (.rst, .txt) and HTML files into the knowledge base. "
        "Unchanged files are skipped; changed ones are re-chunked."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, help="Files or directories.")
        parser.add_argument("--source", required=True, help='Name of the source, e.g. "guide".')
        parser.add_argument(
            "--base-url",
            default=None,
            help=(
                "Links are built as this URL + the document's path (and #anchor). Without it, "
                "an existing source keeps its base URL; an empty value removes the links."
            ),
        )
        parser.add_argument(
            "--language",
            default=None,
            help=(
                "PostgreSQL text search configuration for this source's documents (english, "
                "french, german, simple, ...). Without it, an existing source keeps its own; a "
                "new one gets english."
            ),
        )
        parser.add_argument(
            "--prune",
            action="store_true",
            help="Delete the source's documents under PATHs whose files are gone.",
        )
        parser.add_argument(
            "--move",
            action="store_true",
            help=(
                "Re-root an existing source at the PATHs' common directory (needed when they "
                "lie outside the directory it was first ingested from)."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        base_url: str | None = options["base_url"]
        source: str = options["source"].strip()
        if not source or len(source) > 100:
            raise CommandError("--source must be a name of 1 to 100 characters")
        if base_url:
            try:
                URLValidator(schemes=["http", "https"])(base_url)
            except ValidationError as error:
                raise CommandError(f"--base-url is not an http(s) URL: {base_url}") from error
        progress = _Bar() if sys.stderr.isatty() else _Lines(self)
        try:
            report = units_of_work.run(
                lambda: ingestion.ingest(
                    paths=options["paths"],
                    source=source,
                    base_url=base_url,
                    language=options["language"],
                    prune=options["prune"],
                    move=options["move"],
                    progress=progress,
                ),
                log_id="ingest_docs",
            )
        except ingestion.PathNotFound as error:
            raise CommandError(f"no such file or directory: {error}") from error
        except ingestion.UnknownLanguage as error:
            raise CommandError(f"--language: no text search configuration {error}") from error
        except ingestion.PathOutsideSource as error:
            raise CommandError(f"{error}; pass --move to re-root the source there") from error
        finally:
            progress.stop()
        self.stdout.write(report.summary())
