"""Static files (the admin's CSS and JavaScript), served by WhiteNoise without a thread hop.

WhiteNoise's Django middleware is sync-only. In our async (ASGI) stack Django adapts it, so
every request (``/healthz``, Slack events, admin pages) would be handed to a thread of its own
and back just to pass through it, and a static file's response would be read whole through
``sync_to_async``. This subclass is also async-capable: a path that is not a static file costs
a dict lookup, as in WhiteNoise itself, and goes straight on to the next handler; a static
file's response is prepared by WhiteNoise (headers, caching, ranges, 304s, compressed
variants) in a worker thread, since that opens the file, and its body is streamed with an
async iterator reading chunks off the event loop.

Files come from ``STATIC_ROOT``, filled by ``collectstatic`` (``make run`` runs it).
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import IO, Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse
from whitenoise.middleware import WhiteNoiseMiddleware

CHUNK_SIZE = 64 * 1024


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        super().__init__(get_response)
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        return super().__call__(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if self.autorefresh:  # DEBUG: looks on disk on every request
            static_file = await sync_to_async(self.find_file, thread_sensitive=False)(
                request.path_info
            )
        else:
            static_file = self.files.get(request.path_info)
        if static_file is None:
            next_handler: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
            return await next_handler(request)
        found = await sync_to_async(static_file.get_response, thread_sensitive=False)(
            request.method, request.META
        )
        response = StreamingHttpResponse(
            _chunks(found.file) if found.file is not None else _nothing(),
            status=int(found.status),
        )
        del response["Content-Type"]  # WhiteNoise's headers say what it is, or nothing (304)
        for key, value in found.headers:
            response[key] = value
        return response


async def _chunks(file: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(file.read, CHUNK_SIZE):
            yield chunk
    finally:
        await asyncio.to_thread(file.close)


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield
