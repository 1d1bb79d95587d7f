"""Read Markdown, reStructuredText and HTML into titled sections of readable text.

Each format goes through its own well-kept parser (markdown-it-py, docutils, Beautiful Soup);
the output is the same for all: a title and the sections under each heading, with the heading
path and the anchor that links to it. Text keeps inline code in backticks and code blocks in
``` fences, so an answer can quote it as it reads in the documentation.
"""

import re
from pathlib import PurePosixPath

from domain.knowledge import chunking, html_parsing, markdown_parsing, rst_parsing

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
RST_SUFFIXES = frozenset({".rst", ".txt"})  # Django and many projects keep RST in .txt
HTML_SUFFIXES = frozenset({".html", ".htm"})
SUFFIXES = MARKDOWN_SUFFIXES | RST_SUFFIXES | HTML_SUFFIXES


class UnsupportedFormat(Exception):
    """The file's suffix is not one of :data:`SUFFIXES`."""


def parse(*, text: str, path: str) -> chunking.ParsedDocument:
    """Parse ``text`` in the format its ``path`` suffix names."""
    suffix = PurePosixPath(path).suffix.lower()
    fallback_title = _title_from_path(path)
    if suffix in MARKDOWN_SUFFIXES:
        return markdown_parsing.parse_markdown(text=text, fallback_title=fallback_title)
    if suffix in RST_SUFFIXES:
        return rst_parsing.parse_rst(text=text, fallback_title=fallback_title)
    if suffix in HTML_SUFFIXES:
        return html_parsing.parse_html(text=text, fallback_title=fallback_title)
    raise UnsupportedFormat(suffix)


def _title_from_path(path: str) -> str:
    stem = PurePosixPath(path).stem
    if stem.lower() in {"index", "readme"} and PurePosixPath(path).parent.name:
        stem = PurePosixPath(path).parent.name
    words = re.sub(r"[-_]+", " ", stem).strip()
    return words[:1].upper() + words[1:]
