"""Read reStructuredText (docutils) into titled sections, Sphinx roles and directives included.

Documentation written for Sphinx (Django's own, most Python projects') uses roles and
directives plain docutils does not know (``:doc:``, ``:class:``, ``.. versionadded::``). They
are registered on the fly with handlers that keep their readable text, so they neither fail
the parse nor leak markup into the text.
"""

import copy
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import docutils.frontend
import docutils.parsers.rst
import docutils.parsers.rst.states
import docutils.utils
from docutils import nodes
from docutils.parsers.rst import directives, roles
from docutils.parsers.rst.languages import en as rst_english

from domain.knowledge import chunking, rst_docutils, sectioning

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
    rst_docutils.Parser().parse(text, document)
    collector = sectioning.SectionCollector(fallback_title=fallback_title)
    _walk_rst(document, level=0, collector=collector)
    return collector.document()


def _walk_rst(node: nodes.Element, *, level: int, collector: sectioning.SectionCollector) -> None:
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
        return [sectioning.one_line(_inline(node))]
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
