"""``GET /``: the setup page. Until the product is fully configured it says what is missing and
what to do next; then it says only "ok" to anyone who is not staff."""

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from application import setup
from chatbot import jobs


@require_GET
async def setup_page(request: HttpRequest) -> HttpResponse:
    found = await setup.status(worker_silence_limit=jobs.STALLED_AFTER_SECONDS)
    user = await request.auser()
    if found.complete and not user.is_staff:
        return HttpResponse("ok\n", content_type="text/plain; charset=utf-8")
    return TemplateResponse(request, "chatbot/setup.html", {"status": found})
