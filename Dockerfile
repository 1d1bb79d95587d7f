# The product's image: web and worker run from it with different commands (deploy/compose.yaml,
# docs/deploy.md); PostgreSQL and PgBouncer are separate services.
FROM python:3.13-slim

COPY --from=ghcr.io/astral-sh/uv:0.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PYTHONUNBUFFERED=1

WORKDIR /app
# The dependencies first, so that a code change does not reinstall them.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
RUN uv sync --frozen --no-dev \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin chatbot \
    && mkdir -p /var/lib/chatbot \
    && chown chatbot:chatbot /var/lib/chatbot

USER chatbot
ENV PATH=/app/.venv/bin:$PATH \
    CHATBOT_DATA_DIR=/var/lib/chatbot \
    HOST=0.0.0.0 \
    PORT=8000
EXPOSE 8000
HEALTHCHECK CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"]
CMD ["python", "manage.py", "serve", "--no-worker"]
