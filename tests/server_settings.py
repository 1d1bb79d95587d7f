"""Settings for servers that tests start in a subprocess: the product's, plus the test jobs."""

from chatbot.settings import *  # noqa: F403

PROCRASTINATE_IMPORT_PATHS = ["tests.server_jobs"]
