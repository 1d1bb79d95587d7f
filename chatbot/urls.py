from django.contrib import admin
from django.urls import path

from chatbot.views import health

# POST /slack/events is served before Django: chatbot/asgi.py, chatbot/slack_http.py.
urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
]
