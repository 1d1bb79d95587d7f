"""Read HTML (Beautiful Soup) into titled sections, leaving navigation and scripts out.

Pages from documentation sites (Sphinx, MkDocs, Docusaurus) carry menus, sidebars, banners and
footers around the text; only the page's main content is kept: its ``<main>`` element, or its
``role="main"`` or single ``<article>``, and navigation landmarks inside it are dropped too.
"""

import re

import bs4

from domain.knowledge import chunking, sectioning

_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_DROPPED_TAGS = ("script", "style", "nav", "header", "footer", "noscript", "template", "svg")
# ARIA landmarks that are never the page's text, and Sphinx's "¶" permalinks in headings.
_DROPPED_ROLES = ["navigation", "banner", "contentinfo", "search"]
_DROPPED_CLASSES = ["headerlink", "sphinxsidebar", "related"]
_BLOCK_TAGS = [
    *_HEADINGS,
    *("p", "pre", "table", "ul", "ol", "dl", "li", "dt", "dd", "div", "section", "article"),
    *("main", "aside", "blockquote", "figure", "details", "form", "fieldset"),
]


def parse_html(*, text: str, fallback_title: str) -> chunking.ParsedDocument:
    soup = bs4.BeautifulSoup(text, "html.parser")
    for tag in soup.find_all(_DROPPED_TAGS):
        tag.decompose()
    for tag in soup.find_all(role=_DROPPED_ROLES):
        tag.decompose()
    for tag in soup.find_all(class_=_DROPPED_CLASSES):
        tag.decompose()
    head_title = soup.title.get_text(" ", strip=True) if soup.title else ""
    collector = sectioning.SectionCollector(fallback_title=head_title or fallback_title)
    anchors: dict[str, int] = {}
    root = _main_content(soup)
    _walk_html(root, collector=collector, anchors=anchors)
    return collector.document()


def _main_content(soup: bs4.BeautifulSoup) -> bs4.Tag:
    """The element holding the page's own text: the whole body when none stands out."""
    for selector in ("main", '[role="main"]', "article"):
        found = soup.select(selector)
        if len(found) == 1:
            return found[0]
    return soup.body or soup


def _walk_html(
    node: bs4.Tag, *, collector: sectioning.SectionCollector, anchors: dict[str, int]
) -> None:
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
            anchor = str(explicit) if explicit else sectioning.unique_anchor(heading, anchors)
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
