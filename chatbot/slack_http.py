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
  dictionary lookups an envelope needs, its single-team authorization calls ``auth.test``
  on the path (on every request while Slack's API is unreachable: a 500 after about 5 s),
  and its parser crashes (a 500) on signed bodies of the wrong shape (a list, ``null``,
  ``{"type": "block_actions", "event": null}``). Events API envelopes carry the bot's user id
  in ``authorizations``, which is all the routing needs, and a button press is a user id and
  a list of actions. Bolt still serves Socket Mode, through the same two functions
  (:func:`chatbot.slack_app.accept_event`, :func:`chatbot.slack_actions.accept_actions`).

Bad requests are refused before any work, each with one log line (never with its body):
a bad or missing signature or timestamp is a 401; a body that is not UTF-8, not JSON or a
form, not an object, or an envelope without the fields its type needs is a 400; a body over
``SLACK_MAX_BODY_BYTES`` (1 MiB) is a 413. Anything signed and well formed that the bot does
not act on (other envelope types, other interactivity, slash commands) is a 200 and dropped:
Slack retries a 404 and in the end turns event delivery off for the app.

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
import math
import time
import urllib.parse
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any, NoReturn

from asgiref.sync import ThreadSensitiveContext
from django.conf import settings
from slack_sdk.signature import SignatureVerifier

from application import metrics
from chatbot import (
    database_busy,
    log_context,
    middleware,
    slack_actions,
    slack_app,
    slack_feedback_form,
    slack_inbox,
)

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
    status, problem, after = 500, "", None
    try:
        status, problem, content_type, body, extra, after = await _respond(scope, receive, headers)
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
        if after is not None:
            # Slack has its answer; now what may call Slack's API (a form to open).
            try:
                async with ThreadSensitiveContext(executor=slack_inbox.executor()):
                    await after()
            except Exception:
                logger.exception("Work after a Slack response failed")
    finally:
        # One line per request; a refused one says why (never with its body, which may hold
        # anything a sender put there).
        middleware.log_access(
            method=scope["method"], path=PATH, status=status, started=started, problem=problem
        )
        metrics.ACK_SECONDS.observe(time.perf_counter() - started)
        log_context.current_id.reset(token)


async def _respond(
    scope: Scope, receive: Receive, headers: dict[str, str]
) -> tuple[int, str, bytes, bytes, list[tuple[bytes, bytes]], slack_actions.AfterResponse | None]:
    """Status, why it was refused (empty when not), content type, body, extra headers, and
    what to do once the response is sent."""
    try:
        if scope["method"] != "POST":
            raise _Reply(405, {"error": "POST only"}, [(b"allow", b"POST")])
        after = await _handle(await _read_body(receive), headers)
        return 200, "", b"text/plain; charset=utf-8", b"", [], after
    except _Reply as reply:
        problem = str((reply.body or {}).get("error", "")) if reply.status >= 400 else ""
        if reply.body is None:
            return reply.status, problem, b"text/plain; charset=utf-8", b"", reply.headers, None
        content = json.dumps(reply.body).encode()
        return reply.status, problem, b"application/json", content, reply.headers, None
    except Exception as error:
        if database_busy.is_pool_timeout(error):
            logger.warning("No database connection (pool busy or database down): %s", error)
            retry = [(b"retry-after", database_busy.RETRY_AFTER_SECONDS.encode())]
            busy = json.dumps(database_busy.BUSY_BODY).encode()
            return 503, "", b"application/json", busy, retry, None
        logger.exception("Slack request failed")
        return 500, "", b"application/json", b'{"error": "internal error"}', [], None


async def _read_body(receive: Receive) -> bytes:
    limit = settings.SLACK_MAX_BODY_BYTES
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Reply(400, {"error": "client went away"})
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _Reply(413, {"error": f"body larger than {limit} bytes"})
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _object(text: str) -> dict[str, Any]:
    """A JSON object, or a 400."""
    try:
        # NaN and infinities are not JSON, and PostgreSQL's jsonb refuses them.
        value = json.loads(text, parse_constant=_not_a_number, parse_float=_finite)
    except ValueError:
        raise _Reply(400, {"error": "body is not JSON"}) from None
    if not isinstance(value, dict):
        raise _Reply(400, {"error": "body is not a JSON object"})
    if _has_nul(value):
        # PostgreSQL's text and jsonb cannot hold it, and Slack never sends it.
        raise _Reply(400, {"error": "body contains a NUL character"})
    return value


def _not_a_number(text: str) -> float:
    raise ValueError(text)


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(text)
    return number


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _parse(body: str) -> tuple[str, dict[str, Any]]:
    """What Slack posted: ``("envelope", ...)`` (Events API, JSON) or ``("interaction", ...)``
    (a form with a JSON ``payload``) or ``("command", form)``; anything else is a 400."""
    if body.lstrip().startswith(("{", "[")):
        return "envelope", _object(body)
    try:
        form = dict(urllib.parse.parse_qsl(body, keep_blank_values=True, strict_parsing=True))
    except ValueError:
        raise _Reply(400, {"error": "body is neither JSON nor a form"}) from None
    if "payload" in form:
        return "interaction", _object(form["payload"])
    if form.get("command"):
        return "command", form
    raise _Reply(400, {"error": "body is neither an envelope, an interaction nor a command"})


async def _handle(raw: bytes, headers: dict[str, str]) -> slack_actions.AfterResponse | None:
    """Check and act on a request: an empty 200 and what to do after it, or a
    :class:`_Reply` raised."""
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
    except (ValueError, OverflowError):  # a timestamp that is not a whole number
        signed = False
    if not signed:
        raise _Reply(401, {"error": "invalid signature or stale timestamp"})
    kind, parsed = _parse(body)
    if kind == "command":
        if parsed["command"] != slack_actions.ASK_COMMAND:
            _ignore(f"command {parsed['command'][:50]!r}")
        if not slack_actions.is_ask_command(parsed):
            raise _Reply(400, {"error": "/ask without its user, channel or response_url"})
        told = await slack_actions.accept_ask_command(parsed)
        raise _Reply(200, {"response_type": "ephemeral", "text": told})
    kind_of = parsed.get("type")
    if not isinstance(kind_of, str):
        raise _Reply(400, {"error": "no type"})
    if kind == "envelope":
        if kind_of == "event_callback":
            if not slack_app.is_well_formed(parsed):
                raise _Reply(400, {"error": "event_callback without a well-formed event"})
            await slack_app.accept_event(parsed)
            return None
        if kind_of == "url_verification":
            if not isinstance(parsed.get("challenge"), str):
                raise _Reply(400, {"error": "url_verification without a challenge"})
            raise _Reply(200, {"challenge": parsed["challenge"]})
        _ignore(f"envelope {kind_of[:50]!r}")
    if kind_of == "message_action" and parsed.get("callback_id") == slack_actions.ASK_ABOUT_MESSAGE:
        if not slack_actions.is_message_shortcut(parsed):
            raise _Reply(400, {"error": "message_action without a user, channel or message"})
        await slack_actions.accept_message_shortcut(parsed)
        return None
    if kind_of == "view_submission" and slack_feedback_form.is_submission(parsed):
        # In a context of its own, its database work (the reason) on one of the ack threads.
        async with ThreadSensitiveContext(executor=slack_inbox.executor()):
            await slack_actions.accept_view_submission(parsed)
        return None
    if kind_of != "block_actions":
        _ignore(f"interaction {kind_of[:50]!r}")
    if not slack_actions.is_block_actions(parsed):
        raise _Reply(400, {"error": "block_actions without a user or actions"})
    # In a context of its own, its database work (a vote) on one of the ack threads.
    async with ThreadSensitiveContext(executor=slack_inbox.executor()):
        return await slack_actions.accept_actions(parsed)


def _ignore(what: str) -> NoReturn:
    """Signed and well formed, but nothing the bot acts on: a 200, or Slack retries it and in
    the end turns event delivery off for the app."""
    logger.info("Ignored a Slack request: %s", what)
    raise _Reply(200)
