"""``manage.py ingest_docs PATH [PATH ...] --source NAME [--base-url URL] [--language CONFIG]
[--prune] [--move]``,
``manage.py ingest_docs https://… --source NAME`` (a web site: its sitemap.xml or a start page),
``manage.py ingest_docs --git URL_OR_PATH [--ref main] [--subdir docs] --source NAME``."""

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

from application.knowledge import ingestion, sources
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
        parser.add_argument(
            "paths",
            nargs="*",
            help=(
                "Files or directories; or one http(s):// URL: a sitemap.xml, or a start page "
                "crawled within its own folder."
            ),
        )
        parser.add_argument(
            "--git", default=None, metavar="URL_OR_PATH", help="A git repository to follow."
        )
        parser.add_argument("--ref", default="main", help="Git: the branch or tag (main).")
        parser.add_argument("--subdir", default="", help="Git: read only this folder.")
        parser.add_argument(
            "--url-template",
            default=None,
            help=(
                "Git: the link to a file in the repository's web view, with {path}, {ref} "
                "and {commit}, e.g. https://github.com/acme/docs/blob/{ref}/{path}"
            ),
        )
        parser.add_argument(
            "--schedule",
            default=None,
            help=(
                'Sync the source on this cron schedule ("0 * * * *": hourly) from then on; '
                "an empty value: only by hand."
            ),
        )
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
        schedule: str | None = options["schedule"]
        if schedule and (problem := sources.schedule_error(schedule)):
            raise CommandError(f"--schedule: {problem}")
        paths: list[str] = options["paths"]
        urls = [path for path in paths if path.startswith(("http://", "https://"))]
        if options["git"] is not None:
            if paths:
                raise CommandError("give either PATHs, a URL or --git, not several")
            self._sync_remote(
                name=source,
                kind=sources.Kind.GIT,
                location=options["git"],
                git_ref=options["ref"],
                git_subdir=options["subdir"],
                url_template=options["url_template"],
                schedule=schedule,
            )
        elif urls:
            if len(paths) > 1:
                raise CommandError("give one URL per web source, and no PATHs beside it")
            try:
                URLValidator(schemes=["http", "https"])(urls[0])
            except ValidationError as error:
                raise CommandError(f"not an http(s) URL: {urls[0]}") from error
            self._sync_remote(
                name=source, kind=sources.Kind.WEB, location=urls[0], schedule=schedule
            )
        elif paths:
            self._ingest_folder(
                paths=[Path(path) for path in paths],
                source=source,
                base_url=base_url,
                schedule=schedule,
                options=options,
            )
        else:
            raise CommandError("give PATHs, an http(s):// URL or --git URL_OR_PATH")

    def _ingest_folder(
        self,
        *,
        paths: list[Path],
        source: str,
        base_url: str | None,
        schedule: str | None,
        options: dict[str, Any],
    ) -> None:
        progress = _Bar() if sys.stderr.isatty() else _Lines(self)
        try:
            report = units_of_work.run(
                lambda: sources.ingest_folder(
                    paths=paths,
                    source=source,
                    base_url=base_url,
                    language=options["language"],
                    prune=options["prune"],
                    move=options["move"],
                    schedule=schedule,
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
        except sources.KindMismatch as error:
            raise CommandError(str(error)) from error
        finally:
            progress.stop()
        self.stdout.write(report.summary())

    def _sync_remote(self, *, name: str, kind: str, location: str, **config: Any) -> None:
        progress = _Bar() if sys.stderr.isatty() else _Lines(self)
        try:
            result = units_of_work.run(
                lambda: sources.add_and_sync(
                    name=name, kind=kind, location=location, progress=progress, **config
                ),
                log_id="ingest_docs",
            )
        except sources.KindMismatch as error:
            raise CommandError(str(error)) from error
        finally:
            progress.stop()
        self.stdout.write(result.summary())
        if result.report is None:
            raise CommandError(f"source {name!r} was not synced: {result.error}")
