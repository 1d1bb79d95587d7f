"""Pure rules of a web source: what a sitemap lists, which links a crawl follows, how a page
is named, and which parser reads it. The fetching is ``application.knowledge.web_sync``.
"""

import posixpath
import xml.etree.ElementTree as ET
from urllib.parse import urljoin, urlsplit, urlunsplit

import bs4

_SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


class BadSitemap(Exception):
    """The sitemap is not a sitemap (XML ``urlset`` or ``sitemapindex``)."""


def is_sitemap_url(url: str) -> bool:
    return urlsplit(url).path.lower().endswith(".xml")


def parse_sitemap(data: bytes) -> tuple[list[str], list[str]]:
    """The page URLs and the nested sitemap URLs a sitemap lists, in its order.

    Document type declarations are refused before parsing, so entity expansion (the
    "billion laughs") cannot blow up memory.
    """
    if b"<!DOCTYPE" in data[:2048].upper() or b"<!ENTITY" in data.upper():
        raise BadSitemap("a sitemap with a document type declaration")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as error:
        raise BadSitemap(f"not XML ({error})") from error
    tag = root.tag.removeprefix(_SITEMAP_NS)
    if tag not in {"urlset", "sitemapindex"}:
        raise BadSitemap(f"not a sitemap (root element <{tag}>)")
    locations = [
        (element.text or "").strip()
        for element in root.iter()
        if element.tag.removeprefix(_SITEMAP_NS) == "loc"
    ]
    locations = [location for location in locations if location]
    return (locations, []) if tag == "urlset" else ([], locations)


def scope(url: str) -> str:
    """What a crawl from ``url`` stays within: its site and its folder (the path up to the
    last ``/``), so ``https://h/docs/`` covers ``/docs/...`` and nothing else on the host."""
    parts = urlsplit(url)
    folder = parts.path if parts.path.endswith("/") else posixpath.dirname(parts.path) + "/"
    return urlunsplit((parts.scheme, parts.netloc, folder.replace("//", "/"), "", ""))


def within(url: str, prefix: str) -> bool:
    return page_url(url).startswith(prefix)


def same_site(url: str, other: str) -> bool:
    first, second = urlsplit(url), urlsplit(other)
    return (first.scheme, first.netloc) == (second.scheme, second.netloc)


def page_url(url: str) -> str:
    """The URL without its fragment: one page however many anchors link into it."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def document_path(url: str) -> str:
    """A page's name among the source's documents: its path (and query) on the site."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def robots_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))


def links(*, html: str, url: str, prefix: str) -> list[str]:
    """The pages within ``prefix`` that a page links to (no fragments, no query strings,
    which would let a crawl wander through endless search and calendar pages)."""
    soup = bs4.BeautifulSoup(html, "html.parser")
    base_tag = soup.find("base", href=True)
    base = urljoin(url, str(base_tag["href"])) if isinstance(base_tag, bs4.Tag) else url
    found: dict[str, None] = {}
    for anchor in soup.find_all("a", href=True):
        target = urljoin(base, str(anchor["href"]).strip())
        parts = urlsplit(target)
        if parts.scheme not in {"http", "https"} or parts.query:
            continue
        target = page_url(target)
        if target.startswith(prefix):
            found[target] = None
    return list(found)


def parse_as(*, content_type: str, url: str) -> str:
    """The file name whose suffix picks the parser for a response ('' if none can read it)."""
    media = content_type.split(";", 1)[0].strip().lower()
    suffix = posixpath.splitext(urlsplit(url).path)[1].lower()
    if media in {"text/html", "application/xhtml+xml"}:
        return "page.html"
    if media == "text/markdown" or suffix in {".md", ".markdown"}:
        return "page.md"
    if media in {"text/x-rst", "text/prs.fallenstein.rst"} or suffix in {".rst", ".txt"}:
        return "page.rst"
    if media == "text/plain":
        return "page.md"
    return ""
