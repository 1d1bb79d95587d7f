"""``/docs/<document id>/``: an ingested document, read-only, with an anchor per section."""

from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from application.knowledge import pages
from domain.text import safe_markdown


async def document(request: HttpRequest, document_id: int) -> HttpResponse:
    user = await request.auser()
    page = await pages.readable_page(
        document_id=document_id,
        signed=request.GET.get("s", ""),
        is_staff=bool(user.is_active and user.is_staff),
    )
    if page is None:
        # Not found and not allowed look the same: a guessed id reveals nothing.
        raise Http404("No such document.")
    sections = [
        {
            "anchor": section.anchor,
            "heading": section.heading_path.split(" > ")[-1] if section.heading_path else "",
            "html": safe_markdown.render_html(markdown=section.text),
        }
        for section in page.sections
    ]
    response = TemplateResponse(
        request, "chatbot/document.html", {"page": page, "sections": sections}
    )
    # A signed link is as good as a password: keep it out of other sites' logs.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response
