"""A documentation web site on 127.0.0.1, served from a thread so sync and async tests can
both reach it: pages by path, robots.txt and sitemap.xml like any other page.

Each 200 page carries an ETag (a hash of its body) and a Last-Modified date, and answers 304
to a request that sends them back while the body is unchanged, as real servers do. A page can
be given another status, a redirect, a delay, or raw bytes; every request is recorded with its
headers.
"""

import contextlib
import dataclasses
import hashlib
import http.server
import threading
import time
from typing import Any


@dataclasses.dataclass
class Page:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    redirect_to: str = ""  # a Location: answered with 302
    delay: float = 0.0  # seconds before answering
    validators: bool = True  # send ETag and Last-Modified, honour conditional requests


@dataclasses.dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]


def html(title: str, *, sections: dict[str, str] | None = None, links: tuple[str, ...] = ()) -> str:
    """A page as documentation generators write it: a menu, a main part with sections whose
    headings carry ids, and a footer."""
    menu = "".join(f'<li><a href="{link}">{link}</a></li>' for link in links)
    parts = "".join(
        f'<section id="{heading.lower().replace(" ", "-")}"><h2>{heading}</h2><p>{text}</p>'
        "</section>"
        for heading, text in (sections or {}).items()
    )
    return (
        f"<!doctype html><html><head><title>{title} - Acme docs</title></head><body>"
        f'<nav class="menu"><ul>{menu}<li>Menu boilerplate</li></ul></nav>'
        f"<main><h1>{title}</h1>{parts}</main>"
        "<footer>Copyright boilerplate</footer></body></html>"
    )


def sitemap(urls: list[str]) -> str:
    entries = "".join(f"<url><loc>{url}</loc></url>" for url in urls)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    )


class DocsSite:
    LAST_MODIFIED = "Tue, 01 Dec 2026 10:00:00 GMT"

    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.requests: list[Request] = []
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base = ""

    def url(self, path: str) -> str:
        return self.base + path

    def put(self, path: str, body: str | bytes, **options: Any) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.pages[path] = Page(body=data, **options)

    def requested(self, path: str) -> list[Request]:
        return [request for request in self.requests if request.path == path]

    def start(self) -> None:
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append(Request(path=self.path, headers=dict(self.headers.items())))
                page = site.pages.get(self.path)
                if page is None:
                    self._answer(404, b"not found", "text/plain")
                    return
                if page.delay:
                    time.sleep(page.delay)
                if page.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", page.redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                headers = {}
                if page.validators and page.status == 200:
                    etag = '"' + hashlib.sha1(page.body).hexdigest() + '"'
                    headers = {"ETag": etag, "Last-Modified": site.LAST_MODIFIED}
                    if self.headers.get("If-None-Match") == etag:
                        self.send_response(304)
                        for name, value in headers.items():
                            self.send_header(name, value)
                        self.end_headers()
                        return
                self._answer(page.status, page.body, page.content_type, headers)

            def _answer(
                self,
                status: int,
                body: bytes,
                content_type: str,
                headers: dict[str, str] | None = None,
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                # The client may have given up (a timeout test).
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
