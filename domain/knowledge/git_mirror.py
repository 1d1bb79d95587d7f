"""A git source's cache: a bare repository under the data directory, fetched from the source.

Only the followed ref is fetched. The last synced commit is kept under ``refs/chatbot/synced``
so git's garbage collection never drops it, and the next sync can diff against it and re-read
only the files that changed. Files are read from git's objects (``cat-file``), never checked
out, so a symbolic link in the repository cannot point a sync at files outside it.
"""

import asyncio
import contextlib
import os
import posixpath
from pathlib import Path

from domain.knowledge import markup

SYNCED_REF = "refs/chatbot/synced"


class RefNotFound(Exception):
    """The repository has no branch or tag of that name."""


class FetchFailed(Exception):
    """The repository could not be reached or read (the message is git's)."""


class FileTooLarge(Exception):
    """A file is over the size limit."""


def _env() -> dict[str, str]:
    # No prompts for credentials (a job has nobody to answer), no pager, untranslated errors.
    return {
        **os.environ,
        "LC_ALL": "C",
        "GIT_PAGER": "cat",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "",
        "SSH_ASKPASS": "",
    }


async def _git(cache: Path, *args: str, time_limit: float) -> tuple[int, bytes, str]:
    process = await asyncio.create_subprocess_exec(
        "git",
        "-C",
        str(cache),
        "-c",
        "protocol.ext.allow=never",  # no "ext::" URLs that run commands
        "-c",
        "core.quotepath=off",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_env(),
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), time_limit)
    except TimeoutError as error:
        raise FetchFailed(f"git {args[0]} timed out after {time_limit:.0f} s") from error
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    return process.returncode or 0, stdout, stderr.decode("utf-8", "replace")


def _complaint(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    fatal = [line for line in lines if line.startswith(("fatal:", "error:"))]
    return "; ".join(dict.fromkeys(fatal or lines[-1:])) or "git failed"


async def fetch(*, cache: Path, location: str, ref: str, time_limit: float) -> str:
    """Fetch ``ref`` of the repository at ``location`` into ``cache``; return its commit."""
    if location.startswith("-") or ref.startswith("-") or not ref.strip():
        raise FetchFailed(f"refusing repository {location!r} at ref {ref!r}")
    await asyncio.to_thread(cache.mkdir, parents=True, exist_ok=True)
    if not await asyncio.to_thread((cache / "HEAD").exists):
        code, _, stderr = await _git(cache, "init", "--quiet", "--bare", time_limit=time_limit)
        if code:
            raise FetchFailed(_complaint(stderr))
    code, _, stderr = await _git(
        cache,
        "fetch",
        "--quiet",
        "--force",
        "--no-tags",
        "--",
        location,
        ref,
        time_limit=time_limit,
    )
    if code:
        if "couldn't find remote ref" in stderr or "invalid refspec" in stderr:
            raise RefNotFound(f"the repository has no branch or tag {ref!r}")
        raise FetchFailed(_complaint(stderr))
    code, stdout, stderr = await _git(
        cache, "rev-parse", "--verify", "FETCH_HEAD^{commit}", time_limit=time_limit
    )
    if code:
        raise FetchFailed(_complaint(stderr))
    return stdout.decode().strip()


async def keep(*, cache: Path, commit: str, time_limit: float) -> None:
    """Pin the synced commit, so the next sync can diff against it."""
    await _git(cache, "update-ref", SYNCED_REF, commit, time_limit=time_limit)


async def has_folder(*, cache: Path, commit: str, folder: str, time_limit: float) -> bool:
    if not folder:
        return True
    code, stdout, _ = await _git(
        cache, "cat-file", "-t", f"{commit}:{folder}", time_limit=time_limit
    )
    return code == 0 and stdout.strip() == b"tree"


async def files(*, cache: Path, commit: str, folder: str, time_limit: float) -> dict[str, int]:
    """The documentation files under ``folder`` at ``commit`` (repository path: size), skipping
    hidden and ``_``-prefixed folders as folder sources do, and symbolic links."""
    args = ["ls-tree", "-r", "-l", "-z", commit]
    if folder:
        args += ["--", folder]
    code, stdout, stderr = await _git(cache, *args, time_limit=time_limit)
    if code:
        raise FetchFailed(_complaint(stderr))
    found: dict[str, int] = {}
    for record in stdout.decode("utf-8", "replace").split("\0"):
        if not record:
            continue
        meta, path = record.split("\t", 1)
        mode, kind, _sha, size = meta.split()
        if kind != "blob" or mode == "120000":
            continue
        relative = relative_path(path=path, folder=folder)
        parts = relative.split("/")
        if any(part.startswith((".", "_")) for part in parts[:-1]) or parts[-1].startswith("."):
            continue
        if posixpath.splitext(path)[1].lower() in markup.SUFFIXES:
            found[path] = int(size)
    return found


async def changed(
    *, cache: Path, old: str, new: str, folder: str, time_limit: float
) -> set[str] | None:
    """The paths that differ between two commits (None when the old one is not in the cache,
    so every file must be read)."""
    if not old:
        return None
    code, _, _ = await _git(cache, "cat-file", "-e", f"{old}^{{commit}}", time_limit=time_limit)
    if code:
        return None
    args = ["diff", "--name-only", "-z", "--no-renames", old, new]
    if folder:
        args += ["--", folder]
    code, stdout, stderr = await _git(cache, *args, time_limit=time_limit)
    if code:
        raise FetchFailed(_complaint(stderr))
    return {path for path in stdout.decode("utf-8", "replace").split("\0") if path}


async def read(*, cache: Path, commit: str, path: str, time_limit: float) -> bytes:
    code, stdout, stderr = await _git(
        cache, "cat-file", "blob", f"{commit}:{path}", time_limit=time_limit
    )
    if code:
        raise FetchFailed(_complaint(stderr))
    return stdout


def relative_path(*, path: str, folder: str) -> str:
    """A repository path relative to the source's folder (its document path)."""
    return path[len(folder) + 1 :] if folder else path


def link(*, template: str, path: str, ref: str, commit: str) -> str:
    """The file's page in the repository's web view, '' without a template."""
    if not template:
        return ""
    return template.replace("{path}", path).replace("{ref}", ref).replace("{commit}", commit)
