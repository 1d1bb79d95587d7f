"""Split a parsed document into chunks that search returns and answers cite.

A chunk is one section (or, for a long section, one piece of it) and keeps the path of headings
above it, title first ("Models > Managers > Custom managers"): the path tells a reader where the
passage sits, and search weights it above body text. Chunks have a bounded size so a result can
be quoted whole and ranking is not dominated by a few huge sections.
"""

import dataclasses
import re

from domain.text import message_splitting

HEADING_SEPARATOR = " > "
DEFAULT_MAX_CHARS = 2000


@dataclasses.dataclass(frozen=True, kw_only=True)
class Section:
    """The text under one heading, up to the next heading of any level."""

    headings: tuple[str, ...]  # from the document's title down to this section's heading
    anchor: str  # the fragment that links to the heading ('' for text before any heading)
    text: str  # blocks separated by blank lines; code kept in ``` fences


@dataclasses.dataclass(frozen=True, kw_only=True)
class ParsedDocument:
    title: str
    sections: list[Section]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ChunkDraft:
    position: int
    heading_path: str
    anchor: str
    text: str


def chunk(*, document: ParsedDocument, max_chars: int = DEFAULT_MAX_CHARS) -> list[ChunkDraft]:
    """Chunks in document order: one per section, long sections split between paragraphs."""
    drafts: list[ChunkDraft] = []
    for section in document.sections:
        text = _normalise(section.text)
        if not text:
            continue
        heading_path = HEADING_SEPARATOR.join(h for h in section.headings if h)
        for piece in message_splitting.split(text=text, limit=max_chars):
            drafts.append(
                ChunkDraft(
                    position=len(drafts),
                    heading_path=heading_path,
                    anchor=section.anchor,
                    text=piece,
                )
            )
    return drafts


def slugify(*, text: str) -> str:
    """A heading's fragment the way GitHub and most Markdown renderers build it."""
    slug = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return re.sub(r"\s", "-", slug)


def _normalise(text: str) -> str:
    """Trim trailing spaces and runs of blank lines, which carry no meaning."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
