"""Sync a web source: the pages its sitemap lists, or those a crawl from its start page finds.

Politely: robots.txt is obeyed (its Crawl-delay too), at most ``CHATBOT_WEB_CONCURRENCY``
requests are in flight and ``CHATBOT_WEB_REQUESTS_PER_SECOND`` start per second, and a page
fetched before is asked for again with its ETag and Last-Modified, so an unchanged page costs
a 304 and no parsing. Every page goes through the same decoding, parsing and chunking as a file
(``reading.prepare_content``), linked to its URL, each section to its anchor.

A page that fails (timeout, 404, 5xx, a redirect loop, too big, not UTF-8) is reported and its
last good version stays. Pages no longer listed, or no longer linked from the crawled pages, are
removed. If the site itself cannot be read (its robots.txt, sitemap or start page), the sync
raises :class:`SiteUnavailable` before it changes anything.
"""

import asyncio
import codecs
import dataclasses
import logging
import time
import urllib.robotparser

import httpx
from django.conf import settings

from application import writes
from application.knowledge import ingestion, reading, storing
from domain.knowledge import documents, sources, web_pages

logger = logging.getLogger(__name__)

USER_AGENT = "chatbot-docs-sync/1.0"
MAX_REDIRECTS = 5
MAX_SITEMAPS = 50  # nested sitemaps read at most, so an index cannot send a sync on forever


class SiteUnavailable(Exception):
    """The site could not be read at all: nothing was changed."""


class _PageError(Exception):
    """One page could not be fetched; the message says why."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Fetched:
    status: int
    url: str = ""
    content_type: str = ""
    charset: str = ""
    etag: str = ""
    last_modified: str = ""
    body: bytes = b""


class _Polite:
    """An HTTP client that keeps to a concurrency and a rate, and a size limit per response."""

    def __init__(self, *, client: httpx.AsyncClient, interval: float) -> None:
        self.client = client
        self.interval = interval
        self._slots = asyncio.Semaphore(settings.CHATBOT_WEB_CONCURRENCY)
        self._lock = asyncio.Lock()
        self._next_start = 0.0

    async def _wait_turn(self) -> None:
        async with self._lock:
            now = asyncio.get_running_loop().time()
            start = max(now, self._next_start)
            self._next_start = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)

    async def get(self, url: str, *, headers: dict[str, str], limit: int) -> _Fetched:
        async with self._slots:
            await self._wait_turn()
            try:
                async with self.client.stream("GET", url, headers=headers) as response:
                    if response.status_code != 200:
                        return _Fetched(status=response.status_code, url=str(response.url))
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > limit:
                        raise _PageError(_too_large(int(declared), limit))
                    body = bytearray()
                    async for part in response.aiter_bytes():
                        body += part
                        if len(body) > limit:
                            raise _PageError(_too_large(len(body), limit, more=True))
                    return _Fetched(
                        status=200,
                        url=str(response.url),
                        content_type=response.headers.get("content-type", ""),
                        charset=response.charset_encoding or "",
                        etag=response.headers.get("etag", ""),
                        last_modified=response.headers.get("last-modified", ""),
                        body=bytes(body),
                    )
            except httpx.TooManyRedirects as error:
                raise _PageError(f"redirect loop (more than {MAX_REDIRECTS} redirects)") from error
            except httpx.TimeoutException as error:
                raise _PageError(
                    f"timed out (no answer within {settings.CHATBOT_WEB_TIMEOUT:g} s)"
                ) from error
            except httpx.HTTPError as error:
                raise _PageError(f"unreachable ({error or type(error).__name__})") from error


def _too_large(size: int, limit: int, *, more: bool = False) -> str:
    return f"too large ({'over ' if more else ''}{size:,} bytes; the limit is {limit:,})"


def _status_error(status: int) -> str:
    if status == 404:
        return "not found (404)"
    if status >= 500:
        return f"server error ({status})"
    return f"HTTP status {status}"


async def sync(
    *, source: sources.SyncTarget, progress: ingestion.Progress | None = None
) -> ingestion.IngestionReport:
    """Bring the source's documents in line with the site."""
    started = time.perf_counter()
    stored = await documents.stored_documents(source_name=source.name)
    async with httpx.AsyncClient(
        timeout=settings.CHATBOT_WEB_TIMEOUT,
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        headers={"User-Agent": USER_AGENT},
    ) as client:
        polite = _Polite(client=client, interval=1 / settings.CHATBOT_WEB_REQUESTS_PER_SECOND)
        robots = await _robots(polite=polite, url=source.location)
        delay = robots.crawl_delay(USER_AGENT)
        if delay:
            polite.interval = max(polite.interval, float(delay))
        run = _Run(source=source, stored=stored, polite=polite, robots=robots, progress=progress)
        if web_pages.is_sitemap_url(source.location):
            await run.from_sitemap()
        else:
            await run.crawl()
    removed = await storing.finish(
        source_id=source.id, gone=run.gone(), unchanged_urls=run.unchanged_urls
    )
    return ingestion.IngestionReport(
        added=run.counts["added"],
        updated=run.counts["updated"],
        unchanged=run.counts["unchanged"],
        removed=removed,
        failures=run.failures,
        chunks=run.counts["chunks"],
        seconds=time.perf_counter() - started,
    )


async def _robots(*, polite: _Polite, url: str) -> urllib.robotparser.RobotFileParser:
    """The site's robots.txt: none (a 4xx) allows everything; an outage stops the sync."""
    robots_url = web_pages.robots_url(url)
    parser = urllib.robotparser.RobotFileParser(robots_url)
    try:
        fetched = await polite.get(
            robots_url, headers={}, limit=settings.CHATBOT_DOCS_MAX_FILE_BYTES
        )
    except _PageError as error:
        raise SiteUnavailable(f"{robots_url}: {error}") from error
    if fetched.status == 200:
        parser.parse(fetched.body.decode("utf-8", "replace").splitlines())
    elif 400 <= fetched.status < 500:
        parser.parse([])
    else:
        raise SiteUnavailable(f"{robots_url}: {_status_error(fetched.status)}")
    return parser


class _Run:
    """One sync's pages, counts and failures."""

    def __init__(
        self,
        *,
        source: sources.SyncTarget,
        stored: dict[str, documents.StoredDocument],
        polite: _Polite,
        robots: urllib.robotparser.RobotFileParser,
        progress: ingestion.Progress | None,
    ) -> None:
        self.source = source
        self.stored = stored
        self.polite = polite
        self.robots = robots
        self.progress = progress
        self.prefix = web_pages.scope(source.location)
        self.counts = {"added": 0, "updated": 0, "unchanged": 0, "chunks": 0}
        self.failures: list[ingestion.Failure] = []
        self.unchanged_urls: dict[str, str] = {}
        self.found: set[str] = set()  # document paths of the pages listed or reached
        self.complete = True  # False: the page limit cut the crawl short, so nothing is pruned

    def gone(self) -> list[str]:
        if not self.complete:
            return []
        return sorted(path for path in self.stored if path not in self.found)

    async def from_sitemap(self) -> None:
        pending, pages, read = [self.source.location], [], 0
        while pending and read < MAX_SITEMAPS:
            sitemap = pending.pop(0)
            read += 1
            try:
                fetched = await self.polite.get(
                    sitemap, headers={}, limit=10 * settings.CHATBOT_DOCS_MAX_FILE_BYTES
                )
                if fetched.status != 200:
                    raise _PageError(_status_error(fetched.status))
                listed, nested = web_pages.parse_sitemap(fetched.body)
            except (_PageError, web_pages.BadSitemap) as error:
                raise SiteUnavailable(f"sitemap {sitemap}: {error}") from error
            pages += [web_pages.page_url(url) for url in listed]
            pending += nested
        location = self.source.location
        on_site = [url for url in dict.fromkeys(pages) if web_pages.same_site(url, location)]
        if len(on_site) > settings.CHATBOT_WEB_MAX_PAGES:
            self.complete = False
            self._fail("", f"the sitemap lists more than {settings.CHATBOT_WEB_MAX_PAGES} pages")
        on_site = on_site[: settings.CHATBOT_WEB_MAX_PAGES]
        if self.progress:
            self.progress.started(total=len(on_site))
        await asyncio.gather(*(self.page(url, crawl=False) for url in on_site))

    async def crawl(self) -> None:
        """Breadth first from the start page, within its folder; the start page must answer."""
        start = web_pages.page_url(self.source.location)
        if self.progress:
            self.progress.started(total=max(len(self.stored), 1))
        seen = {start}
        try:
            wave = await self.page(start, crawl=True, first=True)
        except _PageError as error:
            raise SiteUnavailable(f"{start}: {error}") from error
        while wave:
            fresh = [url for url in dict.fromkeys(wave) if url not in seen]
            room = settings.CHATBOT_WEB_MAX_PAGES - len(seen)
            if len(fresh) > room:
                self.complete = False
                self._fail("", f"stopped after {settings.CHATBOT_WEB_MAX_PAGES} pages")
                fresh = fresh[:room]
            seen.update(fresh)
            found = await asyncio.gather(*(self.page(url, crawl=True) for url in fresh))
            wave = [link for links in found for link in links]

    async def page(self, url: str, *, crawl: bool, first: bool = False) -> list[str]:
        """Fetch and store one page; return the in-scope pages it links to (when crawling).

        A page that fails keeps its stored version, and the crawl follows its stored links;
        the start page failing stops the sync (raised, for :meth:`crawl`).
        """
        path = web_pages.document_path(url)
        previous = self.stored.get(path)
        if not self.robots.can_fetch(USER_AGENT, url):
            return []  # disallowed: not found, so a stored version is removed
        self.found.add(path)
        try:
            return await self._fetch_and_store(url=url, path=path, previous=previous, crawl=crawl)
        except Exception as error:
            if not isinstance(error, _PageError | reading.Skipped):
                # A bug or an outage while storing: this page fails, the others go on.
                logger.exception("Could not sync %s", url)
                error = _PageError(f"unexpected error ({type(error).__name__})")
            if first:
                raise _PageError(str(error)) from error
            self._fail(path, str(error))
            return list(previous.links) if previous else []
        finally:
            if self.progress:
                self.progress.advanced(path=path)

    async def _fetch_and_store(
        self, *, url: str, path: str, previous: documents.StoredDocument | None, crawl: bool
    ) -> list[str]:
        headers = {}
        if previous and previous.etag:
            headers["If-None-Match"] = previous.etag
        if previous and previous.last_modified:
            headers["If-Modified-Since"] = previous.last_modified
        fetched = await self.polite.get(
            url, headers=headers, limit=settings.CHATBOT_DOCS_MAX_FILE_BYTES
        )
        if fetched.status == 304 and previous is not None:
            self.counts["unchanged"] += 1
            self.unchanged_urls[path] = url
            return list(previous.links)
        if fetched.status != 200:
            raise _PageError(_status_error(fetched.status))
        if not web_pages.same_site(fetched.url, url):
            raise _PageError(f"redirected off the site, to {fetched.url}")
        parse_as = web_pages.parse_as(content_type=fetched.content_type, url=fetched.url)
        if not parse_as:
            raise reading.Skipped(f"not a page ({fetched.content_type or 'no content type'})")
        data = _as_utf8(fetched)
        links = (
            web_pages.links(
                html=data.decode("utf-8", "replace"), url=fetched.url, prefix=self.prefix
            )
            if crawl and parse_as == "page.html"
            else []
        )
        prepared = await asyncio.to_thread(
            reading.prepare_content,
            data=data,
            path=path,
            previous_hash=previous.content_hash if previous else "",
            parse_as=parse_as,
        )
        if prepared is None:
            self.counts["unchanged"] += 1
            self.unchanged_urls[path] = url
            await writes.write(
                documents.update_validators,
                source_id=self.source.id,
                path=path,
                etag=fetched.etag,
                last_modified=fetched.last_modified,
                links=links,
            )
            return links
        created = await storing.store_document(
            source_id=self.source.id,
            path=path,
            url=url,
            prepared=prepared,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            links=links,
        )
        self.counts["added" if created else "updated"] += 1
        self.counts["chunks"] += len(prepared.chunks)
        return links

    def _fail(self, path: str, reason: str) -> None:
        self.failures.append(ingestion.Failure(path=path, reason=reason))
        if self.progress:
            self.progress.failed(path=path or self.source.location, reason=reason)


def _as_utf8(fetched: _Fetched) -> bytes:
    """The body as UTF-8: a charset the server declares is honoured; undeclared text must be
    UTF-8 (``prepare_content`` reports it otherwise)."""
    charset = fetched.charset
    try:
        if not charset or codecs.lookup(charset).name == "utf-8":
            return fetched.body
        return fetched.body.decode(charset).encode()
    except (LookupError, UnicodeDecodeError) as error:
        raise reading.Skipped(f"not valid {charset} text") from error
