"""``make run``: start the local database when needed, migrate, then serve.

With ``DATABASE_URL`` set, that server is used as it is. Without it, a cluster is created in
``.data/postgres`` on first use, runs on a Unix socket in ``.data/run`` for as long as the
product runs, and is stopped afterwards. A secret key is generated once into ``.data/`` so the
local install runs with production settings.

SIGTERM is turned into the same clean stop as Ctrl-C from the first line on, so the local
database is stopped even when the signal comes during migrations or ingestion (the server runs
in a session of its own and would otherwise outlive us).
"""

import logging
import os
import secrets
import signal
import sys
from pathlib import Path
from types import FrameType

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("CHATBOT_DATA_DIR") or BASE_DIR / ".data")

logger = logging.getLogger("chatbot.launcher")  # also when run as __main__


class _Stopped(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so every ``finally`` on the way out runs."""


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Stopped


def _local_secret_key() -> str:
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


def _serve(manage_args: list[str]) -> None:
    import django
    from django.core.management import call_command, execute_from_command_line

    if manage_args:
        execute_from_command_line(["manage.py", *manage_args])
        return
    django.setup()
    call_command("migrate", interactive=False, verbosity=1)
    # The admin's CSS and JavaScript, into STATIC_ROOT, where ServeStatic serves them from.
    call_command("collectstatic", interactive=False, verbosity=0)
    ingest_guide()
    call_command("serve")


def ingest_guide() -> None:
    """Put the user guide into the knowledge base, so a fresh install answers about itself.

    ``--move``: the guide is this checkout's ``docs/``, wherever it was read from before (a new
    release directory, another clone). The base URL is the setting's, so unsetting it removes
    the links.
    """
    from django.conf import settings
    from django.core.management import call_command

    if (BASE_DIR / "docs").is_dir():
        call_command(
            *("ingest_docs", str(BASE_DIR / "docs"), "--source", "guide", "--prune", "--move"),
            *("--base-url", settings.CHATBOT_GUIDE_BASE_URL),
        )


def main(manage_args: list[str]) -> int:
    """Serve, or with arguments run that management command against the same database."""
    from django.core.management import CommandError

    from chatbot import startup_errors

    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        return _main(manage_args)
    except CommandError as error:
        sys.stderr.write(f"chatbot: {error}\n")
        return 1
    except _Stopped:
        logger.info("Stopped by SIGTERM")
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        logger.info("Interrupted")
        return 128 + signal.SIGINT
    except Exception as error:
        if (line := startup_errors.one_line(error)) is None:
            raise
        sys.stderr.write(f"{line}\n")
        return 1


def _main(manage_args: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot.settings")
    if "DJANGO_SECRET_KEY" not in os.environ and "DATABASE_URL" not in os.environ:
        os.environ["DJANGO_SECRET_KEY"] = _local_secret_key()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if os.environ.get("DATABASE_URL"):
        _serve(manage_args)
        return 0

    from chatbot import embedded_postgres

    try:
        with embedded_postgres.running(
            data_dir=DATA_DIR / "postgres", socket_dir=DATA_DIR / "run"
        ) as cluster:
            cluster.create_database(name="chatbot")
            _serve(manage_args)
    except embedded_postgres.PostgresNotFound as error:
        sys.stderr.write(f"chatbot: {error}\n")
        return 1
    except embedded_postgres.PostgresFailed as error:
        sys.stderr.write(f"chatbot: the local PostgreSQL failed to start: {error}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
