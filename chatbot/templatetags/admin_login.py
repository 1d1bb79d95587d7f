"""``{% secure_cookie_problem %}``: why the admin login cannot work here, if it cannot."""

from django import template
from django.http.request import split_domain_port

from chatbot import secure_cookies

register = template.Library()


@register.simple_tag(takes_context=True)
def secure_cookie_problem(context: template.Context) -> str:
    request = context.get("request")
    if request is None:
        return ""
    hostname, _port = split_domain_port(request.get_host())
    return secure_cookies.request_problem(secure=request.is_secure(), hostname=hostname)
