"""Reading documentation files and parsing them into sections, chunks and vectors.

Reading hashes each file first, so an unchanged file is never parsed; a changed one is
decoded, parsed, chunked and embedded, in a thread or, for big runs, in worker processes
(``parsers``). Web pages and files from git come through ``prepare_content``, so every kind of
source is read alike. Nothing here touches the database.
"""

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import hashlib
import logging
import multiprocessing
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from django.conf import settings

from application.knowledge import parsing_processes
from domain.knowledge import chunking, markup

logger = logging.getLogger(__name__)

# Part of every content hash: bump it when parsing or chunking changes, so the next run
# re-chunks every document instead of skipping them as unchanged.
CHUNKER_VERSION = "chunks-2"


# From this many changed files on, they are parsed in worker processes (one per core): parsing
# reStructuredText is CPU-bound (docutils), and a worker costs about a second to start (Django
# and the embedding model are loaded in each).
PARALLEL_FROM = 40


class Skipped(Exception):
    """This file is skipped; the message says why, for the person running the ingest."""


class OutsideRoot(Skipped):
    """A symbolic link (or a path through one) that leads out of the source's root."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Prepared:
    title: str
    content_hash: str
    chunks: list[chunking.ChunkDraft]
    vectors: list[bytes]


def prepare_content(
    *, data: bytes, path: str, previous_hash: str, parse_as: str = ""
) -> Prepared | None:
    """Hash and (when changed) parse one document's bytes; None when they are unchanged.

    Web pages and files from git come through here, so every kind of source is decoded,
    parsed, chunked and embedded alike. ``parse_as`` names the format by a file name (a web
    page's path has no suffix); by default ``path``'s suffix does. Raises :class:`Skipped`.
    """
    content_hash = hashlib.sha256(CHUNKER_VERSION.encode() + b"\0" + data).hexdigest()
    if content_hash == previous_hash:
        return None
    return parse(Read(path=path, data=data, content_hash=content_hash), parse_as=parse_as)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Read:
    path: str
    data: bytes
    content_hash: str


def read_all(
    *, files: list[Path], root: Path, paths: list[str], previous: dict[str, str]
) -> list[Read | Skipped | None]:
    """Each file read and hashed: None when unchanged, the reason when it cannot be read."""
    limit = settings.CHATBOT_DOCS_MAX_FILE_BYTES
    outcomes: list[Read | Skipped | None] = []
    for file, path in zip(files, paths, strict=True):
        try:
            outcomes.append(
                _read(
                    file=file,
                    root=root,
                    path=path,
                    previous_hash=previous.get(path, ""),
                    limit=limit,
                )
            )
        except Skipped as skipped:
            outcomes.append(skipped)
    return outcomes


def _read(*, file: Path, root: Path, path: str, previous_hash: str, limit: int) -> Read | None:
    """Read and hash one file; None when it is unchanged.

    The link is resolved here, just before reading, and the resolved file is what is read:
    a link changed after the walk cannot lead out of the root either.
    """
    try:
        target = file.resolve(strict=True)
        if not target.is_relative_to(root.resolve()):
            raise OutsideRoot("a symbolic link to a file outside the source's root")
        size = target.stat().st_size
        if size > limit:
            raise Skipped(f"too large ({size:,} bytes; the limit is {limit:,})")
        data = target.read_bytes()
    except OSError as error:
        raise Skipped(f"unreadable ({error.strerror or error})") from error
    content_hash = hashlib.sha256(CHUNKER_VERSION.encode() + b"\0" + data).hexdigest()
    if content_hash == previous_hash:
        return None
    return Read(path=path, data=data, content_hash=content_hash)


def parse(read: Read, parse_as: str = "") -> Prepared:
    """Decode, parse, chunk and embed one changed file (no database: any thread or process)."""
    try:
        text = read.data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Skipped(f"not UTF-8 text ({error.reason} at byte {error.start})") from error
    if "\0" in text:
        raise Skipped("binary content (NUL characters)")
    try:
        parsed = markup.parse(text=text, path=parse_as or read.path)
    except Exception as error:
        logger.exception("Could not parse %s", read.path)
        raise Skipped(f"could not be parsed ({type(error).__name__}: {error})") from error
    chunks = chunking.chunk(document=parsed)
    # numpy and the model where vectors are made, not by every command that imports this
    # module (docs/architecture.md, Start-up).
    from domain.knowledge import embeddings

    return Prepared(
        title=parsed.title[:500],
        content_hash=read.content_hash,
        chunks=chunks,
        vectors=embeddings.chunk_vectors(chunks=chunks),
    )


@contextlib.asynccontextmanager
async def parsers(*, changed: int) -> AsyncIterator[Callable[[Read], Awaitable[Prepared]]]:
    """Where changed files are parsed: a thread each, or worker processes for big runs."""
    workers = os.cpu_count() or 1
    futures: list[asyncio.Future[Prepared]] = []
    pool: concurrent.futures.ProcessPoolExecutor | None = None
    if changed >= PARALLEL_FROM and workers > 1:
        pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),  # no fork of threads and sockets
            initializer=parsing_processes.started,
        )
    loop = asyncio.get_running_loop()

    async def in_process_or_thread(read: Read) -> Prepared:
        try:
            return await loop.run_in_executor(pool, parse, read)
        except concurrent.futures.BrokenExecutor:
            # A worker died (killed, out of memory): this run goes on in threads.
            logger.warning("A parsing process died; parsing %s in a thread", read.path)
            return await asyncio.to_thread(parse, read)

    def submit(read: Read) -> Awaitable[Prepared]:
        future = (
            asyncio.ensure_future(in_process_or_thread(read))
            if pool is not None
            else loop.run_in_executor(None, parse, read)
        )
        futures.append(future)
        return future

    try:
        yield submit
    finally:
        for future in futures:
            if future.done() and not future.cancelled():
                future.exception()  # retrieved: an unfinished run reports its own error
            else:
                future.cancel()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
