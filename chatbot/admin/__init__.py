"""Django admin for reviewing questions, the knowledge base, release notes and jobs.

Django's autodiscovery imports this package; each module registers its models on the default
admin site.
"""

from chatbot.admin import jobs, knowledge, overview, questions, release_notes

__all__ = ["jobs", "knowledge", "overview", "questions", "release_notes"]
