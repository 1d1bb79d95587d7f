"""Read Markdown (CommonMark with tables, markdown-it-py) into titled sections."""

import re

import bs4
from markdown_it import MarkdownIt
from markdown_it.token import Token

from domain.knowledge import chunking, sectioning

_markdown = MarkdownIt("commonmark").enable("table")


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_FRONT_MATTER_TITLE = re.compile(r"^title:[ \t]*(.+?)[ \t]*$", re.MULTILINE)


def parse_markdown(*, text: str, fallback_title: str) -> chunking.ParsedDocument:
    # YAML front matter (Jekyll, Hugo, MkDocs) is metadata, not text; its title is a fallback.
    front_matter = _FRONT_MATTER.match(text)
    if front_matter:
        text = text[front_matter.end() :]
        title = _FRONT_MATTER_TITLE.search(front_matter.group(1))
        if title:
            fallback_title = title.group(1).strip("\"'") or fallback_title
    collector = sectioning.SectionCollector(fallback_title=fallback_title)
    anchors: dict[str, int] = {}
    tokens = _markdown.parse(text)
    depth = 0  # list nesting
    item_start = False  # the next paragraph starts a list item
    row: list[str] = []
    rows: list[str] = []
    for index, token in enumerate(tokens):
        match token.type:
            case "heading_open":
                heading = _inline_plain(tokens[index + 1])
                collector.heading(
                    level=int(token.tag[1]),
                    text=heading,
                    anchor=sectioning.unique_anchor(heading, anchors),
                )
            case "paragraph_open":
                content = sectioning.one_line(tokens[index + 1].content)
                if depth:
                    bullet = "- " if item_start else "  "
                    content = "  " * (depth - 1) + bullet + content
                    item_start = False
                collector.block(content)
            case "fence" | "code_block":
                collector.block(f"```{token.info.strip()}\n{token.content.rstrip()}\n```")
            case "bullet_list_open" | "ordered_list_open":
                depth += 1
            case "bullet_list_close" | "ordered_list_close":
                depth -= 1
            case "list_item_open":
                item_start = True
            case "html_block":
                collector.block(bs4.BeautifulSoup(token.content, "html.parser").get_text(" "))
            case "th_open" | "td_open":
                row.append(tokens[index + 1].content)
            case "tr_close":
                rows.append(" | ".join(row))
                row = []
            case "table_close":
                collector.block("\n".join(rows))
                rows = []
    return collector.document()


def _inline_plain(token: Token) -> str:
    parts = [child.content for child in token.children or [] if child.content]
    return re.sub(r"\s+", " ", "".join(parts)).strip()
