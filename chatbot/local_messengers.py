"""Messengers for questions outside Slack: the terminal (``manage.py ask``), and nowhere (a
question an admin answers again that was asked in the terminal)."""

import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from application.answering import messenger


class Writer(Protocol):
    def write(self, text: str, /) -> Any: ...

    def flush(self) -> None: ...


class SilentMessenger:
    """For questions with nowhere to post (asked in the terminal, answered again by an admin),
    and the base of messengers that do only part of what Slack's does: each step does nothing."""

    async def show_status(self, *, text: str, loading_messages: Sequence[str] = ()) -> None:
        return None

    async def name_thread(self, *, title: str) -> None:
        return None

    async def suggest(self, *, prompts: Sequence[messenger.Prompt]) -> None:
        return None

    async def channel_name(self, *, channel_id: str) -> str:
        return ""

    async def names(self) -> messenger.Names:
        return messenger.Names()

    async def show_partial(
        self,
        *,
        text: str,
        on_posted: Callable[[str], Awaitable[None]],
        found: Sequence[messenger.Source] = (),
    ) -> None:
        return None

    async def deliver(
        self,
        *,
        answer: messenger.OutgoingAnswer,
        existing_ref: str,
        on_posted: Callable[[str], Awaitable[None]],
        continuation_refs: Sequence[str] = (),
    ) -> str:
        return ""

    async def find_posted(self, *, question_id: int, answer_id: int) -> list[str]:
        return []

    async def apologise(self, *, text: str, existing_ref: str = "") -> None:
        return None

    async def say(self, *, text: str) -> None:
        return None


class TerminalMessenger(SilentMessenger):
    """``manage.py ask``: status on stderr, the answer and its sources on stdout."""

    def __init__(self, *, stdout: Writer = sys.stdout, stderr: Writer = sys.stderr) -> None:
        self._stdout = stdout
        self._stderr = stderr

    async def show_status(self, *, text: str, loading_messages: Sequence[str] = ()) -> None:
        self._stderr.write(f"{text}\n")
        self._stderr.flush()

    async def deliver(
        self,
        *,
        answer: messenger.OutgoingAnswer,
        existing_ref: str,
        on_posted: Callable[[str], Awaitable[None]],
        continuation_refs: Sequence[str] = (),
    ) -> str:
        lines = [answer.text, ""]
        if answer.sources:
            lines.append("Sources:")
            for number, source in enumerate(answer.sources, start=1):
                label = messenger.section_label(title=source.title, heading_path=source.heading)
                lines.append(f"  [{number}] {label}" + (f" <{source.url}>" if source.url else ""))
        self._stdout.write("\n".join(lines).rstrip() + "\n")
        return ""

    async def apologise(self, *, text: str, existing_ref: str = "") -> None:
        self._stdout.write(f"{text}\n")

    async def say(self, *, text: str) -> None:
        self._stdout.write(f"{text}\n")
