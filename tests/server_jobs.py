"""Jobs for servers started by tests (``DJANGO_SETTINGS_MODULE=tests.server_settings``)."""

import asyncio
from pathlib import Path

from procrastinate.contrib.django import app


def _write(path: str, text: str) -> None:
    Path(path).write_text(text)


@app.task(name="tests.sleep_then_touch")
async def sleep_then_touch(*, path: str, seconds: float) -> None:
    """Say it started (``PATH.started``), sleep, then write ``PATH``: it ran to its end."""
    await asyncio.to_thread(_write, f"{path}.started", "")
    await asyncio.sleep(seconds)
    await asyncio.to_thread(_write, path, "done")
