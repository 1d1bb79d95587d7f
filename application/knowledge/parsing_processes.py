"""Ingestion's parsing processes start here, with the settings and logging they need.

A spawned process imports what it runs by name (``reading.parse``). Parsing never touches the
database, and ``reading`` imports no model, so a worker needs the settings (file limits) and the
logging configuration, not ``django.setup()`` and its app registry: that would cost every
worker about half a second of CPU more (``reading.PARALLEL_FROM`` says when these processes
are used). This module imports nothing of the project.
"""

import os


def started() -> None:
    """Settings and logging as ``django.setup()`` would configure them, without the apps."""
    # The worker processes are the parallelism: the tokenizer's own threads would only compete.
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    from django.conf import settings
    from django.utils.log import configure_logging

    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
