"""A small fake of Slack's Web API on 127.0.0.1: real HTTP, Slack's wire format.

The product's own ``AsyncWebClient`` talks to it through ``SLACK_API_URL``. It records every
call (method and parameters, from JSON or form bodies) and answers ``chat.postMessage`` as
Slack does, with ``ok`` and a fresh ``ts``; every other method answers ``{"ok": true}``.
``fail(method, error)`` makes a method answer ``{"ok": false, "error": error}`` instead.
It runs in its own thread, so sync tests (``call_command``) and async tests can both use it.
"""

import dataclasses
import itertools
import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclasses.dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]
    authorization: str


class FakeSlackApi:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        self._errors: dict[str, str] = {}
        self.url = ""

    def fail(self, method: str, error: str) -> None:
        with self._lock:
            self._errors[method] = error

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def _answer(self, method: str, params: dict[str, Any], authorization: str) -> dict[str, Any]:
        with self._lock:
            self.calls.append(Call(method=method, params=params, authorization=authorization))
            if method in self._errors:
                return {"ok": False, "error": self._errors[method]}
            if method == "chat.postMessage":
                ts = f"1700000000.{next(self._ts):06d}"
                return {
                    "ok": True,
                    "channel": params.get("channel", ""),
                    "ts": ts,
                    "message": {"text": params.get("text", ""), "ts": ts},
                }
            return {"ok": True}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8")
                if "json" in (self.headers.get("Content-Type") or ""):
                    params = json.loads(raw or "{}")
                else:
                    params = dict(urllib.parse.parse_qsl(raw))
                method = self.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
                body = json.dumps(
                    fake._answer(method, params, self.headers.get("Authorization", ""))
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@contextmanager
def running() -> Iterator[FakeSlackApi]:
    fake = FakeSlackApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), fake._handler())
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/api/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
