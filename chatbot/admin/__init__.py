"""Django admin for reviewing questions, the knowledge base, release notes and jobs.

Django's autodiscovery imports this package; each module registers its models on the default
admin site.
"""

from django.contrib import admin

from chatbot.admin import (
    agent_runs,
    escalations,
    evals,
    feedback,
    jobs,
    knowledge,
    overview,
    questions,
    release_notes,
    reviewed,
)

__all__ = [
    "agent_runs",
    "escalations",
    "evals",
    "feedback",
    "jobs",
    "knowledge",
    "overview",
    "questions",
    "release_notes",
    "reviewed",
]

# The question list is wide (ten columns beside the filters); the navigation sidebar would
# push its last columns off screen on a laptop. Breadcrumbs and the index still navigate.
admin.site.enable_nav_sidebar = False
