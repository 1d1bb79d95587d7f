"""Ingestion's parsing processes start here, with Django set up before anything needs it.

A spawned process imports what it runs by name; ``application.knowledge.ingestion`` imports the
models, which need Django's app registry, so the initializer must live in a module that
imports nothing of the project (``reading.PARALLEL_FROM`` says when these processes are used).
"""


def started() -> None:
    """The project's settings (file limits, logging) in a worker; it never uses the database."""
    import django

    django.setup()
