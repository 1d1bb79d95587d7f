"""Django settings, read from the environment (see the configuration table in README.md)."""

import ipaddress
import os
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from chatbot import embedded_postgres, environment
from chatbot.database_backend import pool_check
from domain.questions import escalation_routes, model_prices

BASE_DIR = Path(__file__).resolve().parent.parent
LOCAL_DATABASE_NAME = "chatbot"

env = environment.Env()
# A `.env` file beside manage.py (or the file CHATBOT_ENV_FILE names) fills in what the
# environment leaves unset; `.env.example` lists every setting with its default.
env.read_env(os.environ.get("CHATBOT_ENV_FILE", str(BASE_DIR / ".env")))

# Where `make run` keeps its local PostgreSQL cluster, socket and generated secret key.
LOCAL_DATA_DIR = env.path("CHATBOT_DATA_DIR", BASE_DIR / ".data")
LOCAL_SOCKET_DIR = LOCAL_DATA_DIR / "run"

DEBUG = env.bool("DJANGO_DEBUG", False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", "")
if not DEBUG and (len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be a random string of at least 50 characters "
        "(or set DJANGO_DEBUG=true for local development)."
    )
if not SECRET_KEY:
    SECRET_KEY = "django-insecure-local-development-only"

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
HOST = env.str("HOST", "127.0.0.1")
PORT = env.int("PORT", 8000)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "servestatic",  # its system checks
    "django.contrib.postgres",
    "procrastinate.contrib.django",
    "data",
    "chatbot",
]

MIDDLEWARE = [
    "chatbot.middleware.request_id_middleware",
    # A pool with no connection to spare: 503 with Retry-After instead of a 500.
    "chatbot.database_busy.DatabaseBusyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # ServeStatic's async middleware, before everything that static files do not need: a path
    # that is not a static file costs a dict lookup, and no request is handed to a thread.
    "servestatic.middleware.ServeStaticMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "chatbot.urls"
ASGI_APPLICATION = "chatbot.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "chatbot" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database. Without DATABASE_URL the product uses the local cluster that `make run` and the
# test run start on a Unix socket under .data/.
DATABASE_POOL_MAX_SIZE = env.int("DATABASE_POOL_MAX_SIZE", 10)
DATABASE_POOL_TIMEOUT = env.float("DATABASE_POOL_TIMEOUT", 10.0)
DATABASE_PGBOUNCER = env.bool("DATABASE_PGBOUNCER", False)
# The local cluster asks for the password kept in its data directory (chatbot/embedded_postgres.py).
_default_database_url = (
    f"postgresql://postgres@/{LOCAL_DATABASE_NAME}?host={LOCAL_SOCKET_DIR}"
    f"&passfile={LOCAL_DATA_DIR / 'postgres' / embedded_postgres.PASSFILE}"
)
_database: dict[str, Any] = env.dj_db_url("DATABASE_URL", _default_database_url)
_database["CONN_MAX_AGE"] = 0
# Django's PostgreSQL backend that gives an idle connection back by itself (chatbot/
# database_backend/base.py): connections track database work, not questions in flight.
_database["ENGINE"] = "chatbot.database_backend"
# Benchmarks only: False is the naive design, a connection held for a unit of work's life.
_database["RELEASE_WHEN_IDLE"] = env.bool("CHATBOT_RELEASE_IDLE_CONNECTIONS", True)
_database.setdefault("OPTIONS", {})
_database["OPTIONS"].setdefault("connect_timeout", 5)
if DATABASE_PGBOUNCER:
    # Transaction pooling: no client-side pool, no server-side cursors, no prepared statements.
    _database["DISABLE_SERVER_SIDE_CURSORS"] = True
    _database["OPTIONS"]["prepare_threshold"] = None
else:
    # The pool checks a connection that sat idle in it before handing it out (an empty round
    # trip), so connections that died with a database restart or outage are replaced instead
    # of failing one request each (chatbot/database_backend/pool_check.py). Django's
    # CONN_HEALTH_CHECKS would run a SELECT 1 on every checkout instead.
    _database["OPTIONS"]["pool"] = {
        "min_size": 1,
        "max_size": DATABASE_POOL_MAX_SIZE,
        "timeout": DATABASE_POOL_TIMEOUT,
        "max_idle": 60,
        "check": pool_check.check_if_stale,
    }
# A runaway query (a bad plan, a lock queue) is cancelled after this long instead of holding a
# connection and its request or job for ever. Work that legitimately takes longer (migrations,
# refreshing the search indexes) lifts it for itself (domain/database.py). Behind PgBouncer
# startup options do not pass: set it on the database role instead (README, Configuration).
DATABASE_STATEMENT_TIMEOUT = env.float("DATABASE_STATEMENT_TIMEOUT", 30.0, minimum=0)
if DATABASE_STATEMENT_TIMEOUT and not DATABASE_PGBOUNCER:
    _timeout = f"-c statement_timeout={max(1, round(DATABASE_STATEMENT_TIMEOUT * 1000))}"
    _database["OPTIONS"]["options"] = (
        f"{_database['OPTIONS'].get('options', '')} {_timeout}".strip()
    )
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# The admin's CSS and JavaScript: `collectstatic` (run by `make run`) copies them here, and
# ServeStatic serves them from here, with DEBUG on or off (its finders, which DEBUG would turn
# on, are not needed: `make run` collects first).
STATIC_URL = "static/"
STATIC_ROOT = LOCAL_DATA_DIR / "static"
SERVESTATIC_USE_FINDERS = False
SERVESTATIC_USE_STATIC_ROOT = True

# HTTPS. X-Forwarded-Proto is trusted only behind a proxy that sets it (and strips a client's):
# otherwise any client could claim HTTPS. Served over HTTPS (secure cookies), browsers are told
# to keep to it (HSTS), and plain HTTP is redirected, except the load balancer's health check.
DJANGO_BEHIND_PROXY = env.bool("DJANGO_BEHIND_PROXY", False)
if DJANGO_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", not DEBUG and HOST != "127.0.0.1")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int(
    "DJANGO_HSTS_SECONDS",
    31_536_000 if SESSION_COOKIE_SECURE else 0,
    minimum=0,
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
# Without the proxy header Django cannot tell HTTPS from HTTP, and would redirect forever.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SSL_REDIRECT", SESSION_COOKIE_SECURE and DJANGO_BEHIND_PROXY)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# HSTS preload binds every subdomain of the registrable domain once submitted to browsers: the
# domain owner's decision, not this application's (check --deploy would ask for it).
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Background jobs (procrastinate). A job holds a database connection only while a query or a
# transaction runs, so a worker runs many jobs at once: they wait on models and Slack, not on
# the database. Their sync database calls share CHATBOT_DATABASE_THREADS threads (each job is
# pinned to one), which also bounds the pooled connections jobs can hold at once; the rest of
# the pool is the HTTP side's reserve in `make run` (docs/architecture.md, "Connections").
PROCRASTINATE_ON_APP_READY = "chatbot.jobs.configure_app"
CHATBOT_WORKER_CONCURRENCY = env.int("CHATBOT_WORKER_CONCURRENCY", 100, minimum=1)
CHATBOT_DATABASE_THREADS = env.int(
    "CHATBOT_DATABASE_THREADS",
    max(1, DATABASE_POOL_MAX_SIZE - 2),
    minimum=1,
)
CHATBOT_WORKER_SHUTDOWN_TIMEOUT = env.float("CHATBOT_WORKER_SHUTDOWN_TIMEOUT", 30.0)

# GET /metrics (Prometheus): for a scraper sending `Authorization: Bearer <token>`, or from an
# allowed address or network; with neither set the page does not exist.
CHATBOT_METRICS_TOKEN = env.str("CHATBOT_METRICS_TOKEN", "")
_metrics_allow: list[str] = env.list("CHATBOT_METRICS_ALLOW", [])
try:
    CHATBOT_METRICS_ALLOW = [ipaddress.ip_network(item, strict=False) for item in _metrics_allow]
except ValueError as error:
    raise ImproperlyConfigured(f"CHATBOT_METRICS_ALLOW: {error}") from error
# prometheus-client reads this itself, at the first metric's creation; a missing directory would
# fail there with a traceback, so it is checked here and gets one line.
_multiprocess_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
if _multiprocess_dir and not os.path.isdir(_multiprocess_dir):
    raise ImproperlyConfigured(
        f"PROMETHEUS_MULTIPROC_DIR: {_multiprocess_dir} is not a directory; create it (empty, "
        "shared by this host's processes) before starting, or unset it"
    )

LOG_LEVEL = env.str("LOG_LEVEL", "INFO")
# `line` for people reading a terminal, `json` (one object per line, request or job id in
# `log_id`) for log collectors.
LOG_FORMAT = env.str("LOG_FORMAT", "line", choices=["line", "json"])
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "chatbot.log_context.ContextFilter"}},
    "formatters": {
        "line": {
            "()": "chatbot.log_context.OneLineFormatter",
            "format": "%(asctime)s %(levelname)s [%(log_id)s] %(name)s: %(message)s",
        },
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": ["asctime", "levelname", "log_id", "name", "message"],
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"level": LOG_LEVEL},
        "procrastinate": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "uvicorn.error": {"level": LOG_LEVEL},
    },
}

# Slack. Without a signing secret the events endpoint answers 503 and the rest keeps working.
SLACK_SIGNING_SECRET = env.str("SLACK_SIGNING_SECRET", "")
SLACK_BOT_TOKEN = env.str("SLACK_BOT_TOKEN", "")
SLACK_APP_TOKEN = env.str("SLACK_APP_TOKEN", "")
SLACK_API_URL = env.str("SLACK_API_URL", "https://slack.com/api/")
SLACK_RETRY_LIMIT = env.int("SLACK_RETRY_LIMIT", 3)
# Where /ask's private answers may be sent: a command's response_url must start with this.
SLACK_RESPONSE_URL_PREFIX = env.str("SLACK_RESPONSE_URL_PREFIX", "https://hooks.slack.com/")
# Slack's own payloads are a few KiB; a larger body is refused with 413 before it is read on.
SLACK_MAX_BODY_BYTES = env.int("SLACK_MAX_BODY_BYTES", 1_048_576, minimum=1_024)

# Models (pydantic-ai model strings, e.g. "openai:gpt-5-mini"; "offline" needs no provider).
CHATBOT_MODEL = env.str("CHATBOT_MODEL", "offline")
# Release notes: a cheaper model for unclear commits (questions are labelled by the answer).
CHATBOT_CLASSIFIER_MODEL = env.str("CHATBOT_CLASSIFIER_MODEL", "") or CHATBOT_MODEL
CHATBOT_MODEL_TIMEOUT = env.float("CHATBOT_MODEL_TIMEOUT", 60.0)
CHATBOT_MODEL_RETRIES = env.int("CHATBOT_MODEL_RETRIES", 3)
CHATBOT_MODEL_REQUEST_LIMIT = env.int("CHATBOT_MODEL_REQUEST_LIMIT", 8)
CHATBOT_MODEL_TOKEN_LIMIT = env.int("CHATBOT_MODEL_TOKEN_LIMIT", 60_000)
CHATBOT_MODEL_RETRY_BACKOFF = env.float("CHATBOT_MODEL_RETRY_BACKOFF", 1.0)
# The admin dashboard's cost estimate: dollars per million input/output tokens, per model.
CHATBOT_MODEL_PRICES = env.str("CHATBOT_MODEL_PRICES", "")
try:
    MODEL_PRICES = model_prices.parse(CHATBOT_MODEL_PRICES)
except ValueError as error:
    raise ImproperlyConfigured(f"CHATBOT_MODEL_PRICES: {error}") from None

# Knowledge base: files larger than this are reported and skipped by `manage.py ingest_docs`.
# Fairness (application/answering/admission.py): per person, questions in the last minute and
# questions being answered at once (0: no limit); and how much of a thread's earlier exchange
# goes to the model with a follow-up (newest first).
CHATBOT_QUESTIONS_PER_MINUTE = env.int("CHATBOT_QUESTIONS_PER_MINUTE", 10, minimum=0)
CHATBOT_QUESTIONS_IN_FLIGHT = env.int("CHATBOT_QUESTIONS_IN_FLIGHT", 3, minimum=0)
CHATBOT_HISTORY_MAX_TURNS = env.int("CHATBOT_HISTORY_MAX_TURNS", 10, minimum=0)
CHATBOT_HISTORY_MAX_CHARS = env.int("CHATBOT_HISTORY_MAX_CHARS", 20_000, minimum=0)
# People from other organisations in Slack Connect channels get no answer from internal
# documents unless this is true.
CHATBOT_ANSWER_EXTERNAL_USERS = env.bool("CHATBOT_ANSWER_EXTERNAL_USERS", False)
# Questions older than this many days lose their texts and people (a daily job); their
# figures stay. 0: keep everything.
CHATBOT_RETENTION_DAYS = env.int("CHATBOT_RETENTION_DAYS", 0, minimum=0)
CHATBOT_DOCS_MAX_FILE_BYTES = env.int("CHATBOT_DOCS_MAX_FILE_BYTES", 2_000_000)
# Web and git sources (docs/knowledge-base.md): git sources are fetched into this folder; a web
# sync sends at most this many requests at once and per second to a site (slower if its
# robots.txt asks for a Crawl-delay), waits this long for each, and reads at most this many
# pages.
CHATBOT_SOURCES_DIR = env.path("CHATBOT_SOURCES_DIR", LOCAL_DATA_DIR / "sources")
CHATBOT_WEB_CONCURRENCY = env.int("CHATBOT_WEB_CONCURRENCY", 4, minimum=1)
CHATBOT_WEB_REQUESTS_PER_SECOND = env.float("CHATBOT_WEB_REQUESTS_PER_SECOND", 5.0, minimum=0.01)
CHATBOT_WEB_TIMEOUT = env.float("CHATBOT_WEB_TIMEOUT", 20.0, minimum=0.1)
CHATBOT_WEB_MAX_PAGES = env.int("CHATBOT_WEB_MAX_PAGES", 5_000, minimum=1)
CHATBOT_GIT_TIMEOUT = env.float("CHATBOT_GIT_TIMEOUT", 300.0, minimum=1)
# Where the user guide (docs/) is published, so answers citing it link there; empty: no links.
CHATBOT_GUIDE_BASE_URL = env.str("CHATBOT_GUIDE_BASE_URL", "")
# Whom a "not covered" answer tells the asker to ask, e.g. "the IT help desk in #it-help".
CHATBOT_NOT_COVERED_CONTACT = env.str("CHATBOT_NOT_COVERED_CONTACT", "")
# Questions the assistant pane offers when opened (up to four, separated by "|"); empty:
# questions about the documents answers cite most.
CHATBOT_SUGGESTED_PROMPTS: list[str] = env.list("CHATBOT_SUGGESTED_PROMPTS", [], delimiter="|")
# "Ask a person" under answers posts the thread's link to a channel: the default channel (with
# an optional user group to mention, C.../S...), or per channel of the question (C1=C2,C3=C4/S5).
# Neither set: answers carry no such button.
CHATBOT_ESCALATION_CHANNEL = env.str("CHATBOT_ESCALATION_CHANNEL", "")
CHATBOT_ESCALATION_ROUTES = env.str("CHATBOT_ESCALATION_ROUTES", "")
try:
    ESCALATION_ROUTES = escalation_routes.parse_routes(
        CHATBOT_ESCALATION_ROUTES
        + (f",*={CHATBOT_ESCALATION_CHANNEL}" if CHATBOT_ESCALATION_CHANNEL else "")
    )
except ValueError as error:
    raise ImproperlyConfigured(
        f"CHATBOT_ESCALATION_ROUTES / CHATBOT_ESCALATION_CHANNEL: {error}"
    ) from None
# The server's public address (https://bot.example.com), for links to it from Slack (document
# pages, the App Home's link to the admin); empty: no such links. On this machine only (`make
# run`'s default host), the local address, so the bundled guide's citations open.
CHATBOT_PUBLIC_URL = env.str(
    "CHATBOT_PUBLIC_URL", f"http://{HOST}:{PORT}" if HOST in ("127.0.0.1", "localhost") else ""
)
# Sections of sources with no base URL link to the product's own page for them
# (/docs/<id>/, with CHATBOT_PUBLIC_URL): open with the link's signature, to admin users, or,
# when this is true, to everyone who can reach the server.
CHATBOT_DOCS_PUBLIC = env.bool("CHATBOT_DOCS_PUBLIC", False)
# Admin: where "open in Slack" links point, e.g. https://acme.slack.com (Slack's own
# https://slack.com redirects to the workspace the reviewer is signed in to).
SLACK_WORKSPACE_URL = env.str("SLACK_WORKSPACE_URL", "https://slack.com").rstrip("/")
# Release notes (manage.py release_notes): unclear commits go to the classifier model in
# batches of this size, this many batches at a time.
CHATBOT_RELEASE_NOTES_BATCH_SIZE = env.int("CHATBOT_RELEASE_NOTES_BATCH_SIZE", 25, minimum=1)
CHATBOT_RELEASE_NOTES_CONCURRENCY = env.int("CHATBOT_RELEASE_NOTES_CONCURRENCY", 4, minimum=1)
