"""``GET /metrics``: Prometheus's text format, for a scraper holding the token or on the allow-list.

Without ``CHATBOT_METRICS_TOKEN`` and ``CHATBOT_METRICS_ALLOW`` the page does not exist (404):
the counts say how busy the product is, which is nobody else's business.

prometheus_client is imported by the page, not with the URLconf: ``manage.py check`` imports
every view and needs no instruments (docs/architecture.md, Start-up).
"""

import hmac
import ipaddress

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.views.decorators.http import require_GET


def _allowed(request: HttpRequest) -> bool:
    token = settings.CHATBOT_METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in settings.CHATBOT_METRICS_ALLOW)


def _pool() -> dict[str, int]:
    """This process's psycopg pool (none behind PgBouncer)."""
    pool = getattr(connection, "pool", None)
    if pool is None:
        return {}
    stats = pool.get_stats()
    size, idle = stats.get("pool_size", 0), stats.get("pool_available", 0)
    return {"in_use": size - idle, "idle": idle, "waiting": stats.get("requests_waiting", 0)}


@require_GET
def metrics_page(request: HttpRequest) -> HttpResponse:
    if not (settings.CHATBOT_METRICS_TOKEN or settings.CHATBOT_METRICS_ALLOW):
        return HttpResponseNotFound(
            "Not found: set CHATBOT_METRICS_TOKEN or CHATBOT_METRICS_ALLOW\n"
        )
    if not _allowed(request):
        return HttpResponse(
            "Forbidden: a bearer token or an allowed address is needed\n", status=403
        )
    import prometheus_client

    from application import metrics

    return HttpResponse(
        metrics.exposition(pool=_pool()), content_type=prometheus_client.CONTENT_TYPE_PLAIN_0_0_4
    )
