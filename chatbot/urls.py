from django.contrib import admin
from django.urls import path

from chatbot.views import health, slack

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("slack/events", slack.events, name="slack-events"),
]
