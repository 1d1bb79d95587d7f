"""Read commits from a git repository without a shell and without holding git's whole output.

Every git call is an argument list (a ref like ``--output=x`` cannot become an option: refs are
resolved to SHAs with ``rev-parse --verify`` first and ranges use ``--end-of-options``). Commits
come out of ``git log`` as records and fields separated by markers, and are parsed from stdout
as it streams, so a 10,000-commit range costs the parsed commits, not git's output on top of
them. A commit message can hold any control character, so a marker is a control character
followed by a random token chosen for each git call: no message can contain it by accident,
and no one can write a message that contains it on purpose.
"""

import asyncio
import codecs
import contextlib
import dataclasses
import datetime as dt
import inspect
import os
import re
import secrets
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Collection
from pathlib import Path

_CHUNK = 1 << 16
_PERSON = re.compile(r"^\s*(?P<name>.*?)\s*<(?P<email>[^>]*)>\s*$")


class GitError(Exception):
    """git failed in a way the user cannot fix by changing the arguments."""


class NotARepository(Exception):
    """The path is not (inside) a git repository."""


class UnknownRef(Exception):
    """A ref does not name a commit in the repository."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Person:
    name: str
    email: str

    @property
    def key(self) -> str:
        """Who this is for deduplication: the email when there is one, else the name."""
        return (self.email or self.name).strip().lower()


@dataclasses.dataclass(frozen=True, kw_only=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    author: Person
    authored_at: dt.datetime
    message: str
    paths: tuple[str, ...]

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0].strip()

    @property
    def body(self) -> str:
        parts = self.message.split("\n", 1)
        return parts[1].strip() if len(parts) > 1 else ""

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1


def _git_env() -> dict[str, str]:
    # No pager, no prompts, no translated messages: output is parsed and errors are matched.
    return {**os.environ, "LC_ALL": "C", "GIT_PAGER": "cat", "GIT_TERMINAL_PROMPT": "0"}


def _base_args(repo: Path) -> list[str]:
    return ["git", "-C", str(repo), "-c", "core.quotepath=off", "-c", "log.showSignature=false"]


async def _run(*, repo: Path, args: list[str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *_base_args(repo),
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_git_env(),
    )
    try:
        stdout, stderr = await process.communicate()
    finally:
        # Cancelled (Ctrl-C, a failing sibling task): do not leave git running or unreaped.
        await _stop(process)
    return (
        process.returncode or 0,
        stdout.decode("utf-8", "replace"),
        stderr.decode("utf-8", "replace"),
    )


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


def _one_line(stderr: str, default: str) -> str:
    """git's complaint as one line: the command prints errors on a single line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    fatal = [line for line in lines if line.startswith(("fatal:", "error:"))]
    return "; ".join(dict.fromkeys(fatal or lines)) or default


async def check_repository(*, repo: Path) -> None:
    if not await asyncio.to_thread(repo.is_dir):
        raise NotARepository(f"not a git repository: {repo}")
    code, _, _ = await _run(repo=repo, args=["rev-parse", "--git-dir"])
    if code != 0:
        raise NotARepository(f"not a git repository: {repo}")


async def resolve(*, repo: Path, ref: str) -> str:
    """The full SHA of the commit ``ref`` names."""
    code, stdout, _ = await _run(
        repo=repo,
        args=["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
    )
    if code != 0 or not stdout.strip():
        raise UnknownRef(f"unknown git ref: {ref}")
    return stdout.strip()


async def count(*, repo: Path, from_sha: str, to_sha: str) -> int:
    code, stdout, stderr = await _run(
        repo=repo, args=["rev-list", "--count", f"{from_sha}..{to_sha}"]
    )
    if code != 0:
        raise GitError(_one_line(stderr, "git rev-list failed"))
    return int(stdout.strip())


async def remote_url(*, repo: Path, remote: str = "origin") -> str:
    """The remote's URL, or "" when there is none."""
    code, stdout, _ = await _run(repo=repo, args=["remote", "get-url", remote])
    return stdout.strip() if code == 0 else ""


def parse_person(*, text: str) -> Person | None:
    """``Name <email>`` as written in ``Co-authored-by`` trailers."""
    match = _PERSON.match(text)
    if match is None:
        return None
    return Person(name=match["name"].strip(), email=match["email"].strip())


def _markers() -> tuple[str, str]:
    """A record and a field marker for one git call (see the module's docstring)."""
    token = secrets.token_hex(8)
    return "\x1e" + token, "\x1f" + token


async def _stream_records(*, repo: Path, args: list[str], record: str) -> AsyncGenerator[str]:
    """Yield the ``record``-separated records of git's stdout as they arrive."""
    process = await asyncio.create_subprocess_exec(
        *_base_args(repo),
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_git_env(),
        limit=_CHUNK,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    # Drain stderr concurrently: a full stderr pipe would block git and so our stdout reads.
    stderr_task = asyncio.create_task(process.stderr.read())
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    text = ""
    try:
        while chunk := await process.stdout.read(_CHUNK):
            text += decoder.decode(chunk)
            # A marker cut in two by the chunk boundary stays in ``text`` until the next read.
            *complete, text = text.split(record)
            for item in complete:
                if item:
                    yield item
        text += decoder.decode(b"", final=True)
        if text:
            yield text
        returncode = await process.wait()
    finally:
        # The consumer stopped early (or failed, or was cancelled): do not leave git running.
        await _stop(process)
        stderr = (await stderr_task).decode("utf-8", "replace")
    if returncode != 0:
        raise GitError(_one_line(stderr, f"git exited with {returncode}"))


def _parse_commit(record: str, field: str) -> Commit:
    sha, parents, name, email, authored_at, remainder = record.split(field, 5)
    message, rest = remainder.rsplit(field, 1)
    paths = tuple(path for path in rest.lstrip("\x00\n").split("\x00") if path.strip())
    return Commit(
        sha=sha.strip(),
        parents=tuple(parents.split()),
        author=Person(name=name, email=email),
        authored_at=dt.datetime.fromisoformat(authored_at),
        message=message.strip(),
        paths=paths,
    )


async def commits(*, repo: Path, from_sha: str, to_sha: str) -> AsyncIterator[Commit]:
    """Commits in ``from_sha..to_sha``, newest first (git's order), with the paths they touch."""
    record, field = _markers()
    # %B is the raw message; --name-only -z appends NUL-terminated paths after the last field.
    log_format = f"{record}%H{field}%P{field}%aN{field}%aE{field}%aI{field}%B{field}"
    args = [
        "log",
        "--no-color",
        "--no-ext-diff",
        "--no-renames",
        "--name-only",
        "-z",
        f"--format={log_format}",
        "--end-of-options",
        f"{from_sha}..{to_sha}",
    ]
    # aclosing: if parsing fails or our consumer stops, git is stopped now, not at some GC.
    async with contextlib.aclosing(_stream_records(repo=repo, args=args, record=record)) as records:
        async for item in records:
            yield _parse_commit(item, field)


async def earlier_contributors(
    *, repo: Path, before_sha: str, among: Collection[str] | Awaitable[Collection[str]]
) -> set[str]:
    """Which of ``among`` (keys, see ``Person.key``) authored or co-authored a commit up to
    ``before_sha``: the others are first-time contributors.

    History is read newest first and only until everyone is found, so a release by regular
    contributors costs a walk back to their last commits, not the whole history. ``among`` may
    be awaitable: git then starts walking at once, while the caller is still working out whom
    to look for, and its first records wait in the pipe (what a run of release notes does
    while it classifies the range).
    """
    if not inspect.isawaitable(among) and not among:
        return set()
    record, field = _markers()
    trailers = f"%(trailers:key=Co-authored-by,valueonly,separator=%x1f{field[1:]})"
    args = [
        "log",
        "--no-color",
        f"--format={record}%aN{field}%aE{field}{trailers}",
        "--end-of-options",
        before_sha,
    ]
    seen: set[str] = set()
    async with contextlib.aclosing(_stream_records(repo=repo, args=args, record=record)) as records:
        item = await anext(records, None)  # starts git
        wanted = set(await among if inspect.isawaitable(among) else among)
        while item is not None and seen != wanted:
            name, email, *co_authors = item.strip("\n").split(field)
            people = [Person(name=name, email=email)]
            people += [p for text in co_authors if (p := parse_person(text=text)) is not None]
            seen.update(person.key for person in people if person.key in wanted)
            item = await anext(records, None) if seen != wanted else None
    return seen
