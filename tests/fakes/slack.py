"""A fake Slack Web API on 127.0.0.1 speaking the real wire format, for slack_sdk to talk to.

It records every call, keeps the messages it was asked to post (streamed ones included), and
can refuse methods, answer 429 with ``Retry-After``, fail with 5xx, or drop the connection
without answering (a network error) on demand.
"""

import asyncio
import dataclasses
import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T1"


@dataclasses.dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float


@dataclasses.dataclass
class Message:
    channel: str
    thread_ts: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    streamed: bool
    stopped: bool = False
    metadata: dict[str, Any] | None = None  # Slack message metadata: event_type, event_payload


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.messages: dict[str, Message] = {}
        self.refuse: dict[str, str] = {}  # method -> Slack error code
        self.refuse_after: dict[str, int] = {}  # method -> calls that succeed before ``refuse``
        self.rate_limited: dict[str, int] = {}  # method -> how many 429s to answer first
        self.retry_after = 1
        self.server_errors: dict[str, int] = {}  # method -> how many 500s to answer first
        self.disconnects: dict[str, int] = {}  # method -> how many calls to hang up on first
        self.delay: dict[str, float] = {}
        self.hold: dict[str, asyncio.Event] = {}  # method -> answer only once the event is set
        self.reached: dict[str, asyncio.Event] = {}  # method -> set when a held call arrives
        self.views: list[dict[str, Any]] = []  # views.open: trigger_id and view
        self.home_views: list[dict[str, Any]] = []  # views.publish: user_id and view
        self.ephemeral: list[dict[str, Any]] = []  # chat.postEphemeral: channel, user, text
        self.responses: list[dict[str, Any]] = []  # what was sent to a response_url, in order
        # users.info and conversations.info answer from these; others are not found.
        self.users: dict[str, dict[str, Any]] = {
            "U123": {
                "id": "U123",
                "name": "ada",
                "real_name": "Ada Lovelace",
                "profile": {"display_name": "Ada", "real_name": "Ada Lovelace"},
            }
        }
        self.channels: dict[str, dict[str, Any]] = {
            "C1": {"id": "C1", "name": "deploys", "is_channel": True},
            "D1": {"id": "D1", "is_im": True, "user": "U123"},
        }
        self.socket_acks: list[dict[str, Any]] = []
        self.socket_connected = asyncio.Event()
        self.socket_acked = asyncio.Event()
        self._sockets: list[web.WebSocketResponse] = []
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._handle)
        app.router.add_get("/api/{method}", self._handle)  # slack_sdk reads some with GET
        app.router.add_get("/socket", self._socket)
        app.router.add_post("/response/{key}", self._response)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/api/"

    async def stop(self) -> None:
        for socket in self._sockets:
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def response_url(self, key: str = "1") -> str:
        """A command's or a button press's ``response_url``, on this server."""
        return self.url.replace("/api/", f"/response/{key}")

    async def _response(self, request: web.Request) -> web.Response:
        """A ``response_url``: Slack answers ``ok`` in plain text."""
        self.responses.append({"key": request.match_info["key"], **await request.json()})
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: say hello, then collect the client's acknowledgements."""
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json({"type": "hello", "num_connections": 1})
        self.socket_connected.set()
        async for message in socket:
            if message.type == web.WSMsgType.TEXT:
                self.socket_acks.append(json.loads(message.data))
                self.socket_acked.set()
        return socket

    async def push(self, envelope: dict[str, Any]) -> None:
        """Send a Socket Mode envelope (events_api, interactive ...) to the connected app."""
        await self._sockets[-1].send_json(envelope)

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def replies(self, *, thread_ts: str) -> list[Message]:
        return [m for m in self.messages.values() if m.thread_ts == thread_ts]

    async def _params(self, request: web.Request) -> dict[str, Any]:
        raw = await request.text()
        if request.content_type == "application/json":
            params = json.loads(raw or "{}")
        else:
            params = dict(parse_qsl(raw, keep_blank_values=True))
            for key in ("blocks", "chunks", "metadata", "attachments", "view"):
                if isinstance(params.get(key), str):
                    params[key] = json.loads(params[key])
        return {**dict(request.query), **params}

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls.append(Call(method=method, params=params, at=time.monotonic()))
        if self.delay.get(method):
            await asyncio.sleep(self.delay[method])
        if method in self.hold:
            self.reached.setdefault(method, asyncio.Event()).set()
            await self.hold[method].wait()
        if self.rate_limited.get(method):
            self.rate_limited[method] -= 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(self.retry_after)},
            )
        if self.server_errors.get(method):
            self.server_errors[method] -= 1
            return web.Response(status=500, text="internal error")
        if self.disconnects.get(method):
            self.disconnects[method] -= 1
            assert request.transport is not None
            request.transport.close()  # the client sees the server hang up, as on a network error
            return web.Response(status=500, text="never sent")
        if method in self.refuse:
            if self.refuse_after.get(method):
                self.refuse_after[method] -= 1
            else:
                return web.json_response({"ok": False, "error": self.refuse[method]})
        return web.json_response(self._answer(method, params))

    def _next_ts(self) -> str:
        return f"1700000100.{next(self._ts):06d}"

    @staticmethod
    def _chunk_text(params: dict[str, Any]) -> str:
        return "".join(
            chunk.get("text", "")
            for chunk in params.get("chunks") or []
            if chunk.get("type") == "markdown_text"
        ) + str(params.get("markdown_text") or "")

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", params.get("channel_id", "")))
        if method == "apps.connections.open":
            return {
                "ok": True,
                "url": self.url.replace("http://", "ws://").replace("/api/", "/socket"),
            }
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://example.slack.com/",
                "team": "Example",
                "team_id": TEAM_ID,
                "user": "chatbot",
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method == "chat.postMessage":
            ts = self._next_ts()
            self.messages[ts] = Message(
                channel=channel,
                thread_ts=str(params.get("thread_ts", "")),
                ts=ts,
                text=str(params.get("text", "")),
                blocks=list(params.get("blocks") or []),
                streamed=False,
                stopped=True,
                metadata=params.get("metadata") or None,
            )
            posted = {"text": params.get("text")}
            return {"ok": True, "channel": channel, "ts": ts, "message": posted}
        if method == "chat.startStream":
            ts = self._next_ts()
            self.messages[ts] = Message(
                channel=channel,
                thread_ts=str(params.get("thread_ts", "")),
                ts=ts,
                text=self._chunk_text(params),
                blocks=[],
                streamed=True,
            )
            return {"ok": True, "channel": channel, "ts": ts}
        if method in ("chat.appendStream", "chat.stopStream", "chat.update"):
            message = self.messages.get(str(params.get("ts")))
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            if method != "chat.update" and (message.stopped or not message.streamed):
                return {"ok": False, "error": "message_not_in_streaming_state"}
            if method != "chat.appendStream" and params.get("metadata"):
                message.metadata = params["metadata"]
            if method == "chat.update":
                message.text = str(params.get("text", ""))
                message.blocks = list(params.get("blocks") or [])
                message.stopped = True
            else:
                message.text += self._chunk_text(params)
            if method == "chat.stopStream":
                message.blocks = list(params.get("blocks") or [])
                message.stopped = True
            return {"ok": True, "channel": channel, "ts": message.ts}
        if method == "conversations.replies":
            return self._thread(channel, params)
        if method == "conversations.history":
            return self._history(channel, params)
        if method == "users.info":
            user = self.users.get(str(params.get("user", "")))
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        if method == "conversations.info":
            found = self.channels.get(channel)
            if found is None:
                return {"ok": False, "error": "channel_not_found"}
            return {"ok": True, "channel": found}
        if method == "chat.getPermalink":
            ts = str(params.get("message_ts", ""))
            link = f"https://example.slack.com/archives/{channel}/p{ts.replace('.', '')}"
            return {"ok": True, "channel": channel, "permalink": link}
        if method == "chat.postEphemeral":
            self.ephemeral.append(params)
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "views.publish":
            self.home_views.append(params)
            return {"ok": True, "view": {"id": "VHOME", **(params.get("view") or {})}}
        if method == "views.open":
            self.views.append(params)
            view = params.get("view")
            return {"ok": True, "view": {"id": "V1", **(view if isinstance(view, dict) else {})}}
        return {"ok": True}

    def _history(self, channel: str, params: dict[str, Any]) -> dict[str, Any]:
        """``conversations.history``: the channel's messages outside threads (thread roots
        included), newest first, up to ``limit``; metadata only with ``include_all_metadata``."""
        top = sorted(
            (
                m
                for m in self.messages.values()
                if m.channel == channel and m.thread_ts in ("", m.ts)
            ),
            key=lambda m: m.ts,
            reverse=True,
        )
        limit = int(params.get("limit") or 100)
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        page = []
        for message in top[:limit]:
            shown: dict[str, Any] = {"type": "message", "ts": message.ts, "text": message.text}
            if with_metadata and message.metadata:
                shown["metadata"] = message.metadata
            page.append(shown)
        return {"ok": True, "messages": page, "has_more": len(top) > limit}

    def _thread(self, channel: str, params: dict[str, Any]) -> dict[str, Any]:
        """``conversations.replies``: the thread's messages, oldest first, a page at a time
        (``limit``, ``cursor``); metadata only with ``include_all_metadata``, as Slack does."""
        root = str(params.get("ts", ""))
        thread = sorted(
            (
                m
                for m in self.messages.values()
                if m.channel == channel and root in (m.ts, m.thread_ts)
            ),
            key=lambda m: m.ts,
        )
        start = int(params.get("cursor") or 0)
        limit = int(params.get("limit") or 1000)
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        page = []
        for message in thread[start : start + limit]:
            shown: dict[str, Any] = {
                "type": "message",
                "ts": message.ts,
                "thread_ts": message.thread_ts or message.ts,
                "text": message.text,
                "bot_id": BOT_ID,
            }
            if with_metadata and message.metadata:
                shown["metadata"] = message.metadata
            page.append(shown)
        more = start + limit < len(thread)
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }


def signed_headers(*, body: str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack sends with a request, signed with the app's signing secret."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
    }
