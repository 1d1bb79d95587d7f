"""Read Markdown, reStructuredText and HTML into titled sections of readable text.

Each format goes through its own well-kept parser (markdown-it-py, docutils, Beautiful Soup);
the output is the same for all: a title and the sections under each heading, with the heading
path and the anchor that links to it. Text keeps inline code in backticks and code blocks in
``` fences, so an answer can quote it as it reads in the documentation.

Documentation written for Sphinx (Django's own, most Python projects') uses roles and
directives plain docutils does not know (``:doc:``, ``:class:``, ``.. versionadded::``). They
are registered on the fly with handlers that keep their readable text, so they neither fail
the parse nor leak markup into the text.
"""

import copy
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any

import bs4
import docutils.frontend
import docutils.parsers.rst
import docutils.parsers.rst.states
import docutils.utils
from docutils import nodes
from docutils.parsers.rst import directives, roles
from docutils.parsers.rst.languages import en as rst_english
from markdown_it import MarkdownIt
from markdown_it.token import Token

from domain.knowledge import chunking

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
        return parse_markdown(text=text, fallback_title=fallback_title)
    if suffix in RST_SUFFIXES:
        return parse_rst(text=text, fallback_title=fallback_title)
    if suffix in HTML_SUFFIXES:
        return parse_html(text=text, fallback_title=fallback_title)
    raise UnsupportedFormat(suffix)


def _title_from_path(path: str) -> str:
    stem = PurePosixPath(path).stem
    if stem.lower() in {"index", "readme"} and PurePosixPath(path).parent.name:
        stem = PurePosixPath(path).parent.name
    words = re.sub(r"[-_]+", " ", stem).strip()
    return words[:1].upper() + words[1:]


class _SectionCollector:
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


# Markdown -------------------------------------------------------------------------------------

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
    collector = _SectionCollector(fallback_title=fallback_title)
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
                    level=int(token.tag[1]), text=heading, anchor=_unique(heading, anchors)
                )
            case "paragraph_open":
                content = _one_line(tokens[index + 1].content)
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


def _one_line(text: str) -> str:
    """A paragraph on one line: its source line breaks are layout, not meaning."""
    return re.sub(r"[ \t]*\n[ \t]*", " ", text.strip())


def _inline_plain(token: Token) -> str:
    parts = [child.content for child in token.children or [] if child.content]
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def _unique(heading: str, seen: dict[str, int]) -> str:
    slug = chunking.slugify(text=heading)
    count = seen.get(slug, 0)
    seen[slug] = count + 1
    return slug if count == 0 else f"{slug}-{count}"


# reStructuredText -----------------------------------------------------------------------------

_CODE_ROLES = frozenset(
    {
        "attr",
        "class",
        "const",
        "data",
        "djadmin",
        "djadminopt",
        "envvar",
        "exc",
        "fieldlookup",
        "file",
        "func",
        "lookup",
        "meth",
        "mimetype",
        "mod",
        "obj",
        "option",
        "program",
        "samp",
        "setting",
        "tfilter",
        "ttag",
    }
)
_SKIPPED_DIRECTIVES = frozenset(
    {
        "currentmodule",
        "default-domain",
        "highlight",
        "index",
        "literalinclude",
        "module",
        "toctree",
        "autosummary",
        "automodule",
        "autoclass",
        "autofunction",
    }
)
_CODE_DIRECTIVES = frozenset({"code-block", "sourcecode", "console", "snippet", "doctest"})
_LABELLED_DIRECTIVES = {
    "versionadded": "New in version",
    "versionchanged": "Changed in version",
    "deprecated": "Deprecated since version",
    "versionremoved": "Removed in version",
    "seealso": "See also",
}
_ROLE_PATTERN = re.compile(r"(?<![\w`]):([A-Za-z][\w.+:-]*):`")
_DIRECTIVE_PATTERN = re.compile(r"^\s*\.\.\s+([A-Za-z][\w.+:-]*)::", re.MULTILINE)


def _sphinx_role(
    name: str,
    rawtext: str,
    text: str,
    lineno: int,
    inliner: docutils.parsers.rst.states.Inliner,
    options: Mapping[str, Any] | None = None,
    content: Sequence[str] = (),
) -> tuple[Sequence[Any], Sequence[Any]]:
    """Any Sphinx cross-reference role: keep the text a reader would see."""
    text = docutils.utils.unescape(text)
    explicit = re.fullmatch(r"(.*?)\s*<([^<>]+)>", text, flags=re.DOTALL)
    if explicit and explicit.group(1):
        label = explicit.group(1)
    else:
        label = explicit.group(2) if explicit else text
        if label.startswith("~"):
            label = label[1:].rsplit(".", 1)[-1]
        label = label.lstrip(".!")
        short = name.rsplit(":", 1)[-1]
        if short == "doc":
            label = label.rstrip("/").rsplit("/", 1)[-1].replace("-", " ")
        elif short in {"ref", "term"}:
            label = label.replace("-", " ")
    if name.rsplit(":", 1)[-1] in _CODE_ROLES:
        return [nodes.literal(rawtext, label)], []
    return [nodes.inline(rawtext, label)], []


class _AnyOptions(dict[str, Callable[[str], Any]]):
    """A directive option spec that accepts every option, keeping its text."""

    def __missing__(self, key: str) -> Callable[[str], Any]:
        return directives.unchanged


class _SphinxDirective(docutils.parsers.rst.Directive):
    """Any Sphinx or project-specific directive: keep its readable content."""

    required_arguments = 0
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec = _AnyOptions()
    has_content = True

    def run(self) -> list[nodes.Node]:
        name = self.name.rsplit(":", 1)[-1]
        argument = self.arguments[0] if self.arguments else ""
        if name in _SKIPPED_DIRECTIVES:
            return []
        if name in _CODE_DIRECTIVES:
            code = "\n".join(self.content)
            return [nodes.literal_block(code, code)] if code.strip() else []
        container = nodes.container()
        if name in _LABELLED_DIRECTIVES:
            label = _LABELLED_DIRECTIVES[name] + (f" {argument}" if argument else "")
            container += nodes.paragraph(label, label + ":")
        elif argument:
            # An object description (``.. method:: save(**kwargs)``, ``.. setting:: DEBUG``):
            # its signature reads like code.
            container += nodes.paragraph("", "", nodes.literal(argument, argument))
        if self.content:
            self.state.nested_parse(self.content, self.content_offset, container)
        return [container]


def _register_unknown(text: str) -> None:
    """Give every role and directive the text uses, and docutils lacks, a tolerant handler."""
    for name in set(_ROLE_PATTERN.findall(text)) - _registered_roles:
        if name.lower() not in rst_english.roles:
            roles.register_local_role(name.lower(), _sphinx_role)
        _registered_roles.add(name)
    for name in set(_DIRECTIVE_PATTERN.findall(text)) - _registered_directives:
        if name.lower() not in rst_english.directives:
            directives.register_directive(name.lower(), _SphinxDirective)
        _registered_directives.add(name)


_registered_roles: set[str] = set()
_registered_directives: set[str] = set()


for _name in ("doc", "ref", "class", "meth", "func", "setting", "term"):
    roles.register_local_role(_name, _sphinx_role)
# Sphinx reads ``.. class::`` as a Python class description, not a CSS class.
for _name in ("class", *_SKIPPED_DIRECTIVES, *_CODE_DIRECTIVES, *_LABELLED_DIRECTIVES):
    directives.register_directive(_name, _SphinxDirective)

_rst_settings = docutils.frontend.get_default_settings(docutils.parsers.rst.Parser)
_rst_settings.report_level = 5  # problems never reach stderr; their nodes are dropped below
_rst_settings.halt_level = 5
_rst_settings.file_insertion_enabled = False  # no ``.. include::`` of arbitrary files
_rst_settings.raw_enabled = False
_rst_settings.syntax_highlight = "none"
_rst_settings.character_level_inline_markup = False


def parse_rst(*, text: str, fallback_title: str) -> chunking.ParsedDocument:
    _register_unknown(text)
    settings = copy.copy(_rst_settings)
    settings.warning_stream = io.StringIO()
    document = docutils.utils.new_document("<document>", settings)
    docutils.parsers.rst.Parser().parse(text, document)
    collector = _SectionCollector(fallback_title=fallback_title)
    _walk_rst(document, level=0, collector=collector)
    return collector.document()


def _walk_rst(node: nodes.Element, *, level: int, collector: _SectionCollector) -> None:
    for child in node.children:
        if isinstance(child, nodes.section):
            title = next((c for c in child.children if isinstance(c, nodes.title)), None)
            heading = title.astext() if title is not None else ""
            # Sphinx links a section by the id made from its title, whatever labels it has.
            anchor = nodes.make_id(heading) or next(iter(child.get("ids", [])), "")
            collector.heading(level=level + 1, text=heading, anchor=anchor)
            _walk_rst(child, level=level + 1, collector=collector)
        elif not isinstance(child, nodes.title):
            for block in _rst_blocks(child):
                collector.block(block)


_INVISIBLE = (
    nodes.comment,
    nodes.system_message,
    nodes.target,
    nodes.substitution_definition,
    nodes.raw,
    nodes.pending,
)


def _rst_blocks(node: nodes.Node) -> list[str]:
    if isinstance(node, _INVISIBLE):
        return []
    if isinstance(node, nodes.literal_block | nodes.doctest_block):
        return [f"```\n{node.astext().rstrip()}\n```"]
    if isinstance(node, nodes.bullet_list | nodes.enumerated_list):
        items = []
        for item in node.children:
            text = "\n".join(_rst_children(item))
            items.append("- " + text.replace("\n", "\n  "))
        return ["\n".join(items)] if items else []
    if isinstance(node, nodes.definition_list_item | nodes.field):
        term, *rest = node.children
        body = "\n".join(b for child in rest for b in _rst_blocks(child))
        return [f"{_inline(term)}\n  " + body.replace("\n", "\n  ")]
    if isinstance(node, nodes.table):
        rows = [
            " | ".join(" ".join(_rst_children(entry)) for entry in row.children)
            for row in node.findall(nodes.row)
        ]
        return ["\n".join(rows)] if rows else []
    if isinstance(node, nodes.Admonition):
        label = node.__class__.__name__.capitalize()
        blocks = _rst_children(node)
        if isinstance(node, nodes.admonition) and blocks:  # a generic one carries its own title
            return blocks
        return [f"{label}: " + "\n\n".join(blocks)] if blocks else []
    if isinstance(node, nodes.TextElement):
        return [_one_line(_inline(node))]
    if isinstance(node, nodes.Element):
        return _rst_children(node)
    return [node.astext()]


def _rst_children(node: nodes.Node) -> list[str]:
    children: Iterable[nodes.Node] = node.children if isinstance(node, nodes.Element) else ()
    return [block for child in children for block in _rst_blocks(child) if block.strip()]


def _inline(node: nodes.Node) -> str:
    """Readable inline text: code in backticks, problems and targets left out."""
    if isinstance(node, nodes.Text):
        return node.astext()  # undoes docutils' NUL-marked backslash escapes
    if isinstance(node, nodes.system_message | nodes.target):
        return ""
    if isinstance(node, nodes.problematic):
        return re.sub(r"^:[\w:+.-]+:|[`_]+", "", node.astext())
    if isinstance(node, nodes.literal):
        return f"`{node.astext()}`"
    if isinstance(node, nodes.Element):
        return "".join(_inline(child) for child in node.children)
    return node.astext()


# HTML -----------------------------------------------------------------------------------------

_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_DROPPED_TAGS = ("script", "style", "nav", "header", "footer", "noscript", "template", "svg")
_BLOCK_TAGS = [
    *_HEADINGS,
    *("p", "pre", "table", "ul", "ol", "dl", "li", "dt", "dd", "div", "section", "article"),
    *("main", "aside", "blockquote", "figure", "details", "form", "fieldset"),
]


def parse_html(*, text: str, fallback_title: str) -> chunking.ParsedDocument:
    soup = bs4.BeautifulSoup(text, "html.parser")
    for tag in soup.find_all(_DROPPED_TAGS):
        tag.decompose()
    head_title = soup.title.get_text(" ", strip=True) if soup.title else ""
    collector = _SectionCollector(fallback_title=head_title or fallback_title)
    anchors: dict[str, int] = {}
    root = soup.body or soup
    _walk_html(root, collector=collector, anchors=anchors)
    return collector.document()


def _walk_html(node: bs4.Tag, *, collector: _SectionCollector, anchors: dict[str, int]) -> None:
    for child in node.children:
        if isinstance(child, bs4.NavigableString):
            if not isinstance(child, bs4.Comment | bs4.Doctype) and child.strip():
                collector.block(child.strip())
            continue
        if not isinstance(child, bs4.Tag) or child.name == "title":
            continue
        if child.name in _HEADINGS:
            heading = child.get_text(" ", strip=True)
            explicit = child.get("id") or _parent_section_id(child)
            anchor = str(explicit) if explicit else _unique(heading, anchors)
            collector.heading(level=_HEADINGS[child.name], text=heading, anchor=anchor)
        elif child.name == "pre":
            collector.block(f"```\n{child.get_text().rstrip()}\n```")
        elif child.name == "table":
            rows = [
                " | ".join(cell.get_text(" ", strip=True) for cell in row.find_all(["th", "td"]))
                for row in child.find_all("tr")
            ]
            collector.block("\n".join(rows))
        elif not child.find(_BLOCK_TAGS):
            prefix = "- " if child.name == "li" else ""
            collector.block(prefix + _html_inline(child))
        else:
            _walk_html(child, collector=collector, anchors=anchors)


def _parent_section_id(heading: bs4.Tag) -> str:
    """Many generators (Sphinx among them) put the id on the section around the heading."""
    parent = heading.parent
    if parent is not None and parent.name in {"section", "div"} and parent.get("id"):
        first = parent.find(list(_HEADINGS))
        if first is heading:
            return str(parent["id"])
    return ""


def _html_inline(tag: bs4.Tag) -> str:
    for code in tag.find_all("code"):
        if code.find_parent("pre") is None:
            code.replace_with(f"`{code.get_text()}`")
    return re.sub(r"\s+", " ", tag.get_text(" ", strip=True)).strip()
