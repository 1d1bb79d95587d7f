"""``POST /slack/events``: Slack's one Request URL, served by a small ASGI route before Django.

Slack waits for this answer (3 s, then it retries), and a burst of events arrives at once when
a busy channel mentions the bot, so the path of an event does the least it can: read the body,
check the signature, parse the JSON, and hand the event to :func:`chatbot.slack_app.accept_event`,
which stores it and queues its job in one transaction on one connection, shared with the events
that arrive at the same moment (group commit, ``chatbot/slack_inbox.py``). Then 200.

Why not a Django view, and why not bolt for events (both were here before; README.md,
"Benchmark: the ack", has the numbers):

- Django's request path costs more than the work: a thread is created for each request's
  ``ThreadSensitiveContext``, ``request_started``/``request_finished`` run their receivers
  through thread hops, and ten middleware (sessions, CSRF, auth, messages ...) run for a
  signed webhook that uses none of them. Here, the database work runs on a few long-lived
  threads (``slack_inbox.ACK_THREADS``), one hop per group of events, and nothing else leaves
  the event loop.
- bolt's chain (ssl check, signature, authorization, self-event filter, URL verification,
  every listener's matchers, a new Web API client per request) is slower than the few
  dictionary lookups an envelope needs, and its single-team authorization calls ``auth.test``
  on the path (on every request while Slack's API is unreachable: a 500 after about 5 s).
  Events API envelopes carry the bot's user id in ``authorizations``, which is all the
  routing needs. Bolt still handles what it is good at: interactivity (the feedback buttons)
  and commands, with an ``authorize`` that makes no network call either.

What this route skips from Django, on purpose: its middleware (no session, cookie or CSRF
token is involved; the request is authenticated by its signature) and the ``Host`` check
against ``ALLOWED_HOSTS`` (nothing here builds a URL from the Host header). It keeps the
request id and the one access-log line of ``chatbot.middleware``. Every other path goes to
Django untouched.

A pool with no connection to spare within ``DATABASE_POOL_TIMEOUT`` is a 503 with
``Retry-After``, never a 500 (Slack retries either way; a 503 says why). The ack threads hold
at most one pooled connection each, so a burst of events never needs more than
``slack_inbox.ACK_THREADS`` connections, whatever its size, and those are the pool's share that jobs
cannot take (only other HTTP requests, admin pages, compete for it): while the database is up,
a burst of events waits its turn on these threads instead of timing out on the pool.
"""

import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from asgiref.sync import ThreadSensitiveContext
from django.conf import settings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from chatbot import database_busy, log_context, middleware, slack_app, slack_inbox

logger = logging.getLogger(__name__)

PATH = "/slack/events"

type Scope = MutableMapping[str, Any]
type Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
type Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
type ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class _Reply(Exception):
    """Answer the request with this status and JSON body (or an empty body)."""

    def __init__(
        self, status: int, body: dict[str, Any] | None = None, headers: Sequence[tuple] = ()
    ) -> None:
        self.status = status
        self.body = body
        self.headers = list(headers)


def with_slack_events(django_application: ASGIApp) -> ASGIApp:
    """The ASGI application: ``/slack/events`` here, everything else to Django."""

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == PATH:
            await _serve(scope, receive, send)
        else:
            await django_application(scope, receive, send)

    return application


async def _serve(scope: Scope, receive: Receive, send: Send) -> None:
    started = time.perf_counter()
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    token = log_context.current_id.set(middleware.request_id(headers.get("x-request-id", "")))
    status = 500
    try:
        status, content_type, body, extra = await _respond(scope, receive, headers)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", content_type),
                    (b"x-request-id", log_context.current_id.get().encode()),
                    *extra,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
    finally:
        middleware.log_access(method=scope["method"], path=PATH, status=status, started=started)
        log_context.current_id.reset(token)


async def _respond(
    scope: Scope, receive: Receive, headers: dict[str, str]
) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]]]:
    try:
        if scope["method"] != "POST":
            raise _Reply(405, {"error": "POST only"}, [(b"allow", b"POST")])
        return await _handle(await _read_body(receive), scope, headers)
    except _Reply as reply:
        if reply.body is None:
            return reply.status, b"text/plain; charset=utf-8", b"", reply.headers
        return reply.status, b"application/json", json.dumps(reply.body).encode(), reply.headers
    except Exception as error:
        if database_busy.is_pool_timeout(error):
            logger.warning("No database connection (pool busy or database down): %s", error)
            retry = [(b"retry-after", database_busy.RETRY_AFTER_SECONDS.encode())]
            return 503, b"application/json", json.dumps(database_busy.BUSY_BODY).encode(), retry
        logger.exception("Slack request failed")
        return 500, b"application/json", b'{"error": "internal error"}', []


async def _read_body(receive: Receive) -> bytes:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Reply(400, {"error": "client went away"})
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _Reply(413, {"error": "body too large"})
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _handle(
    raw: bytes, scope: Scope, headers: dict[str, str]
) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]]]:
    problem = slack_app.configuration_problem()
    if problem:
        raise _Reply(503, {"error": problem})
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Reply(400, {"error": "body is not UTF-8"}) from None
    # Signed and no older than five minutes, before anything else looks at the body.
    try:
        signed = SignatureVerifier(settings.SLACK_SIGNING_SECRET).is_valid_request(body, headers)
    except ValueError:  # a timestamp that is not a number
        signed = False
    if not signed:
        raise _Reply(401, {"error": "invalid signature or stale timestamp"})
    if body.startswith("{"):
        try:
            envelope = json.loads(body)
        except ValueError:
            raise _Reply(400, {"error": "malformed body"}) from None
        kind = envelope.get("type") if isinstance(envelope, dict) else None
        if kind == "event_callback":
            await slack_app.accept_event(envelope)
            raise _Reply(200)
        if kind == "url_verification":
            raise _Reply(200, {"challenge": envelope.get("challenge", "")})
    return await _dispatch_to_bolt(body, scope, headers)


async def _dispatch_to_bolt(
    body: str, scope: Scope, headers: dict[str, str]
) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]]]:
    """Interactivity (buttons), commands and anything else Slack posts: bolt's listeners."""
    bolt_headers: dict[str, str | Sequence[str]] = dict(headers)
    try:
        request = AsyncBoltRequest(
            body=body,
            query=scope.get("query_string", b"").decode("latin-1"),
            headers=bolt_headers,
        )
    except (ValueError, json.JSONDecodeError):
        raise _Reply(400, {"error": "malformed body"}) from None
    if not isinstance(request.body, dict) or not (
        request.body.get("type") or request.body.get("command")
    ):
        raise _Reply(400, {"error": "malformed body"})
    # In a context of its own, its database work (a vote) on one of the ack threads.
    async with ThreadSensitiveContext(executor=slack_inbox.executor()):
        response = await slack_app.get_app().async_dispatch(request)
    extra = [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in response.first_headers_without_set_cookie().items()
        if name.lower() != "content-type"
    ]
    content_type = response.first_headers().get("content-type", "text/plain;charset=utf-8")
    body_bytes = response.body.encode() if isinstance(response.body, str) else response.body
    return response.status, content_type.encode("latin-1"), body_bytes, extra
