"""``GET /healthz`` (liveness) and ``GET /readyz`` (readiness) for load balancers and
orchestrators."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from application import health
from chatbot import jobs


@require_GET
async def healthz(request: HttpRequest) -> JsonResponse:
    report = await health.check()
    return JsonResponse(report.as_dict(), status=200 if report.ok else 503)


@require_GET
async def readyz(request: HttpRequest) -> JsonResponse:
    # A worker silent longer than this is taken for dead and its jobs are handed on.
    report = await health.ready(worker_silence_limit=jobs.STALLED_AFTER_SECONDS)
    return JsonResponse(report.as_dict(), status=200 if report.ok else 503)
