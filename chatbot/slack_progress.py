"""The steps shown above a streamed answer (Slack's task cards, ``task_update`` chunks): what
was searched, which sections were read, and the writing, each with the sections it used.

They open the stream together with the answer's first words, since search comes before any
writing; the writing step completes, with the sections the answer cites, when the stream
stops. Where streaming is refused the answer is posted whole, without steps.
"""

from collections.abc import Sequence

from slack_sdk.models.blocks.block_elements import UrlSourceElement
from slack_sdk.models.messages.chunk import Chunk, MarkdownTextChunk, TaskUpdateChunk

from application.answering import messenger
from domain.text import slack_mentions

DISPLAY_MODE = "timeline"
SOURCES_SHOWN = 6


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _sources(sources: Sequence[messenger.Source]) -> list[UrlSourceElement]:
    """Linked sections, once each; a section without a link cannot be a source element."""
    shown: dict[str, UrlSourceElement] = {}
    for source in sources:
        if source.url and source.url not in shown and len(shown) < SOURCES_SHOWN:
            label = messenger.section_label(title=source.title, heading_path=source.heading)
            shown[source.url] = UrlSourceElement(
                url=source.url, text=slack_mentions.neutralise(text=label)
            )
    return list(shown.values())


def opening(*, found: Sequence[messenger.Source], text: str) -> list[Chunk]:
    """The steps so far (search done, sections read, writing under way), then the first text."""
    steps: list[Chunk] = [
        TaskUpdateChunk(
            id="search",
            title="Searched the documentation",
            status="complete",
            details=f"Found {_plural(len(found), 'section')}" if found else "Found nothing close",
        )
    ]
    if found:
        steps.append(
            TaskUpdateChunk(
                id="read",
                title=f"Read {_plural(len(found), 'section')}",
                status="complete",
                sources=_sources(found) or None,
            )
        )
    steps.append(TaskUpdateChunk(id="write", title="Writing the answer", status="in_progress"))
    return [*steps, MarkdownTextChunk(text=text)]


def closing(*, cited: Sequence[messenger.Source]) -> list[Chunk]:
    """The writing step, complete, with the sections the answer cites."""
    return [
        TaskUpdateChunk(
            id="write",
            title="Wrote the answer",
            status="complete",
            sources=_sources(cited) or None,
        )
    ]
