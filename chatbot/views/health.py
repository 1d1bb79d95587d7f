"""``GET /healthz`` for load balancers and orchestrators."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from application import health


@require_GET
async def healthz(request: HttpRequest) -> JsonResponse:
    report = await health.check()
    return JsonResponse(report.as_dict(), status=200 if report.ok else 503)
