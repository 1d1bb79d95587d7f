from django.contrib import admin
from django.urls import path

from chatbot.admin import gaps
from chatbot.views import documents, health, metrics, setup

# POST /slack/events is served before Django: chatbot/asgi.py, chatbot/slack_http.py.
urlpatterns = [
    path("", setup.setup_page, name="setup"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_page, name="metrics"),
    path("admin/gaps/", admin.site.admin_view(gaps.view), name="coverage_gaps"),
    path("admin/", admin.site.urls),
    path("docs/<int:document_id>/", documents.document, name="document"),
]
