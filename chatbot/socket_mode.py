"""Socket Mode: receive Slack events over a WebSocket instead of a public Request URL.

Used when ``SLACK_APP_TOKEN`` (``xapp-...``, scope ``connections:write``) is set, for
workspaces where the server has no public URL. The same bolt app handles the events, so the
inbox, the job and the feedback buttons behave exactly as over HTTP. Each envelope is handled
as its own unit of work, like an HTTP request, so its database connection goes back to the
pool at once.
"""

import asyncio
import logging

from django.conf import settings
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from chatbot import log_context, slack_app, units_of_work

logger = logging.getLogger(__name__)


class _Handler(AsyncSocketModeHandler):
    async def handle(self, client: AsyncBaseSocketModeClient, req: SocketModeRequest) -> None:
        async with units_of_work.unit_of_work(log_id=f"socket-{log_context.new_id()}"):
            await super().handle(client, req)  # type: ignore[arg-type]


def enabled() -> bool:
    return bool(settings.SLACK_APP_TOKEN)


async def run() -> None:
    """Stay connected until cancelled (the SDK reconnects on its own after network trouble).

    Nothing here raises: the server runs this as a task nobody awaits until shutdown, so a
    failure is logged and HTTP keeps serving; Slack events simply do not arrive until it is fixed.
    """
    try:
        app = slack_app.get_app(socket_mode=True)
    except slack_app.SlackNotConfigured as error:
        logger.error("Socket Mode is not started: %s", error)
        return
    handler = _Handler(app, app_token=settings.SLACK_APP_TOKEN)
    try:
        await handler.connect_async()
    except Exception:
        logger.exception("Could not connect to Slack in Socket Mode")
        await handler.close_async()
        return
    logger.info("Connected to Slack in Socket Mode")
    try:
        await asyncio.Event().wait()
    finally:
        await handler.close_async()
