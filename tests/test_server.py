"""The in-process server: a part that ends on its own is a failure, not a quiet exit."""

import asyncio
import socket

import pytest

from chatbot import server
from chatbot.asgi import application  # noqa: F401 (imported now: its django.setup() resets logging)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_a_part_that_ends_before_any_stop_signal_fails_the_server(monkeypatch, caplog):
    async def worker_that_returns() -> None:
        return None

    monkeypatch.setattr(server, "_keep_worker_running", worker_that_returns)

    with pytest.raises(server.ServerFailed, match="worker"):
        await asyncio.wait_for(server.serve(host="127.0.0.1", port=_free_port()), timeout=30)

    assert "worker stopped on its own: shutting down" in caplog.text
