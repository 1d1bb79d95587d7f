"""Secure cookies over plain HTTP: the admin login cannot work, so say why instead of failing
silently (the browser drops the session cookie and the login page comes back, with no error).

Browsers keep secure cookies for ``localhost`` over HTTP, so only other hosts are affected.
"""

from django.conf import settings

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})

PROBLEM = (
    "Secure cookies are on (DJANGO_SECURE_COOKIES) but this server is reached over plain HTTP, "
    "so browsers will not keep the admin's login cookie. Serve it over HTTPS behind a proxy "
    "(and set DJANGO_BEHIND_PROXY=true), or set DJANGO_SECURE_COOKIES=false on a trusted network."
)


def server_problem(*, host: str) -> str:
    """The problem when a server bound to ``host`` speaks plain HTTP with secure cookies."""
    behind_https = settings.DJANGO_BEHIND_PROXY
    if settings.SESSION_COOKIE_SECURE and not behind_https and host not in LOCAL_HOSTS:
        return PROBLEM
    return ""


def request_problem(*, secure: bool, hostname: str) -> str:
    """The problem when a page came over plain HTTP (``secure`` False) from ``hostname``."""
    if settings.SESSION_COOKIE_SECURE and not secure and hostname not in LOCAL_HOSTS:
        return PROBLEM
    return ""
