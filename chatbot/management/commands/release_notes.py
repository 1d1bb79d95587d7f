"""``manage.py release_notes``: release notes for a git range, printed, stored, maybe posted.

rich (the progress bar) is imported only on a terminal, slack_sdk only when posting
(``chatbot.release_notes_slack``): a run from a script or CI starts without either.
"""

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from application.release_notes import generating
from application.release_notes import progress as progress_module
from chatbot import release_notes_slack, units_of_work
from domain.release_notes import git_log

if TYPE_CHECKING:
    from rich import progress as rich_progress

BAD_INPUT = 2


class _TerminalProgress:
    """A progress bar on stderr, one task per stage."""

    def __init__(self, bar: "rich_progress.Progress") -> None:
        self._bar = bar
        self._task: rich_progress.TaskID | None = None

    def stage(self, *, name: str, total: int | None) -> None:
        if self._task is not None:
            finished = self._bar.tasks[self._task]
            self._bar.update(self._task, completed=finished.total or finished.completed)
        self._task = self._bar.add_task(name, total=total)

    def advance(self, *, steps: int = 1) -> None:
        if self._task is not None:
            self._bar.advance(self._task, steps)


class Command(BaseCommand):
    help = "Write release notes for the commits in FROM..TO of a git repository."
    # Model checks query the database; bad git input must get its one-line error without it.
    requires_system_checks: list[str] = []  # noqa: RUF012 (Django reads it as given)

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # Our --version names the release; it replaces Django's "print Django's version".
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--repo", default=".", help="Path of the git repository.")
        parser.add_argument("--from", dest="from_ref", required=True, help="Start (excluded).")
        parser.add_argument("--to", dest="to_ref", default="HEAD", help="End (included).")
        parser.add_argument("--version", default="", help="Release name, e.g. 2.4.0.")
        parser.add_argument("--output", default="", help="Write the notes to this file.")
        parser.add_argument("--format", choices=["markdown", "json"], default="markdown")
        parser.add_argument("--post-to", default="", help="Slack channel ID to post to.")
        parser.add_argument(
            "--offline", action="store_true", help="Use no model, even if one is configured."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["output"]:
            _check_writable(Path(options["output"]))
        try:
            result = asyncio.run(self._run(options))
        except (
            generating.InvalidInput,
            git_log.NotARepository,
            git_log.UnknownRef,
            git_log.GitError,
            generating.EmptyRange,
        ) as error:
            # A repository git cannot read (missing objects) is bad input, like a wrong path.
            raise CommandError(str(error), returncode=BAD_INPUT) from error
        except generating.PublishFailed as error:
            raise CommandError(str(error)) from error
        if options["format"] == "json":
            text = json.dumps(result.data, indent=2, ensure_ascii=False) + "\n"
        else:
            text = result.markdown
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")
        self.stderr.write(
            f"release notes #{result.release_notes_id}: {result.summary}; "
            f"{result.group_count} groups, {result.model_calls} model calls, "
            f"{result.input_tokens + result.output_tokens} tokens, {result.duration_s:.1f} s"
            + (f"; posted to {result.posted_channel}" if result.posted_channel else ""),
            style_func=lambda text: text,
        )

    async def _run(self, options: dict[str, Any]) -> generating.Result:
        """The use case in its own thread context, like a request in Django's ASGI handler."""
        async with units_of_work.unit_of_work(log_id="release_notes"):
            with _progress() as progress:
                return await generating.generate(
                    repo=Path(options["repo"]),
                    from_ref=options["from_ref"],
                    to_ref=options["to_ref"],
                    version=options["version"],
                    offline=options["offline"],
                    post_to=options["post_to"],
                    publisher=release_notes_slack.SlackPublisher(),
                    progress=progress,
                    now=timezone.now(),
                )


def _check_writable(path: Path) -> None:
    """Refuse an --output that cannot be written before the run, not after it was stored."""
    parent = path.parent
    if path.is_dir():
        raise CommandError(f"--output is a directory: {path}", returncode=BAD_INPUT)
    if not parent.is_dir():
        raise CommandError(f"--output directory does not exist: {parent}", returncode=BAD_INPUT)
    if not os.access(parent, os.W_OK):
        raise CommandError(f"--output directory is not writable: {parent}", returncode=BAD_INPUT)


@contextlib.contextmanager
def _progress() -> Iterator[progress_module.Progress]:
    """A rich progress bar on a terminal, nothing otherwise (pipes, CI, tests)."""
    if not sys.stderr.isatty():
        yield progress_module.NoProgress()
        return
    from rich import progress as rich_progress
    from rich.console import Console

    with rich_progress.Progress(
        rich_progress.TextColumn("{task.description}"),
        rich_progress.BarColumn(),
        rich_progress.MofNCompleteColumn(),
        rich_progress.TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        yield _TerminalProgress(bar)
