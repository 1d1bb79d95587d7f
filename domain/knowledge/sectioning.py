"""Build a document's titled sections from the headings and blocks each parser meets."""

import re

from domain.knowledge import chunking


class SectionCollector:
    """Builds sections from headings and blocks met in document order."""

    def __init__(self, *, fallback_title: str) -> None:
        self.fallback_title = fallback_title
        self.title = ""
        self.stack: list[tuple[int, str]] = []  # (level, heading)
        self.anchor = ""
        self.blocks: list[str] = []
        self.sections: list[tuple[tuple[str, ...], str, str]] = []

    def heading(self, *, level: int, text: str, anchor: str) -> None:
        self._flush()
        if not self.title and not self.stack and level == 1:
            self.title = text
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        self.stack.append((level, text))
        self.anchor = anchor

    def block(self, text: str) -> None:
        if text.strip():
            self.blocks.append(text.strip("\n"))

    def _flush(self) -> None:
        if self.blocks:
            headings = tuple(h for _level, h in self.stack)
            self.sections.append((headings, self.anchor, "\n\n".join(self.blocks)))
        self.blocks = []

    def document(self) -> chunking.ParsedDocument:
        self._flush()
        title = self.title or self.fallback_title
        sections = []
        for headings, anchor, text in self.sections:
            full = headings if headings[:1] == (title,) else (title, *headings)
            sections.append(chunking.Section(headings=full, anchor=anchor, text=text))
        return chunking.ParsedDocument(title=title, sections=sections)


def one_line(text: str) -> str:
    """A paragraph on one line: its source line breaks are layout, not meaning."""
    return re.sub(r"[ \t]*\n[ \t]*", " ", text.strip())


def unique_anchor(heading: str, seen: dict[str, int]) -> str:
    slug = chunking.slugify(text=heading)
    count = seen.get(slug, 0)
    seen[slug] = count + 1
    return slug if count == 0 else f"{slug}-{count}"
