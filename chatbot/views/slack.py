"""``POST /slack/events``: one Request URL for Slack events, interactivity and commands.

slack-bolt ships no adapter for async Django views, so this is one: it checks what can be
checked without bolt (configured? signed? well-formed?) with precise status codes, then builds
an ``AsyncBoltRequest`` from the Django request and returns bolt's ``BoltResponse``.
"""

import json
from collections.abc import Sequence

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from chatbot import slack_app


@csrf_exempt
@require_POST
async def events(request: HttpRequest) -> HttpResponse:
    try:
        app = slack_app.get_app()
    except slack_app.SlackNotConfigured as error:
        return JsonResponse({"error": str(error)}, status=503)
    headers = {name.lower(): value for name, value in request.headers.items()}
    try:
        body = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return JsonResponse({"error": "body is not UTF-8"}, status=400)
    # Signed and no older than five minutes, before anything else looks at the body.
    if not SignatureVerifier(settings.SLACK_SIGNING_SECRET).is_valid_request(body, headers):
        return JsonResponse({"error": "invalid signature or stale timestamp"}, status=401)
    bolt_headers: dict[str, str | Sequence[str]] = dict(headers)
    try:
        bolt_request = AsyncBoltRequest(
            body=body, query=request.META.get("QUERY_STRING", ""), headers=bolt_headers
        )
    except (ValueError, json.JSONDecodeError):
        return JsonResponse({"error": "malformed body"}, status=400)
    if not isinstance(bolt_request.body, dict) or not (
        bolt_request.body.get("type") or bolt_request.body.get("command")
    ):
        return JsonResponse({"error": "malformed body"}, status=400)
    bolt_response = await app.async_dispatch(bolt_request)
    response = HttpResponse(
        content=bolt_response.body,
        status=bolt_response.status,
        headers=bolt_response.first_headers_without_set_cookie(),
    )
    return response
