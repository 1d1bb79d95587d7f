"""``{% question_overview %}``: the question overview on the admin index."""

from typing import Any

from django import template

from chatbot.admin import dashboard, overview

register = template.Library()


@register.inclusion_tag("chatbot/admin/overview.html", takes_context=True)
def question_overview(context: template.Context) -> dict[str, Any]:
    return overview.context(request=context["request"])


@register.inclusion_tag("chatbot/admin/dashboard.html", takes_context=True)
def question_dashboard(context: template.Context) -> dict[str, Any]:
    return dashboard.context(request=context["request"])
