"""The ASGI entry point served by uvicorn: Slack's Request URL first, then Django.

``POST /slack/events`` is answered by a small route of its own (``chatbot/slack_http.py``
says why); every other request goes to Django.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot.settings")

django_application = get_asgi_application()

from chatbot import slack_http  # noqa: E402  (needs the settings and apps loaded above)

application = slack_http.with_slack_events(django_application)  # type: ignore[arg-type]
