"""Sync a git source: fetch its ref into the cache, re-read only the files that changed.

The diff between the last synced commit and the new one says which files to read; files the
last sync could not read are tried again, and a document the source does not have yet is read
whatever the diff says. Files that are gone from the commit are removed. A fetch that fails (an
unreachable repository, a ref that does not exist, a folder that is not there) raises
:class:`RepositoryUnavailable` before anything is written, so no document is lost to an outage.
"""

import time
from pathlib import Path

from django.conf import settings

from application.knowledge import ingestion, reading, storing
from domain.knowledge import documents, git_mirror, sources


class RepositoryUnavailable(Exception):
    """The repository, its ref or its folder could not be read: nothing was changed."""


def cache_dir(*, source_id: int) -> Path:
    return Path(settings.CHATBOT_SOURCES_DIR) / f"git-{source_id}"


async def sync(
    *, source: sources.SyncTarget, progress: ingestion.Progress | None = None
) -> tuple[ingestion.IngestionReport, str]:
    """Bring the source's documents in line with its ref; return the report and the commit."""
    started = time.perf_counter()
    timeout = settings.CHATBOT_GIT_TIMEOUT
    cache = cache_dir(source_id=source.id)
    folder = source.git_subdir.strip("/")
    try:
        commit = await git_mirror.fetch(
            cache=cache, location=source.location, ref=source.git_ref, time_limit=timeout
        )
        if not await git_mirror.has_folder(
            cache=cache, commit=commit, folder=folder, time_limit=timeout
        ):
            raise RepositoryUnavailable(f"no folder {folder!r} at {source.git_ref}")
        present = await git_mirror.files(
            cache=cache, commit=commit, folder=folder, time_limit=timeout
        )
        changed = await git_mirror.changed(
            cache=cache, old=source.synced_commit, new=commit, folder=folder, time_limit=timeout
        )
    except (git_mirror.RefNotFound, git_mirror.FetchFailed) as error:
        raise RepositoryUnavailable(str(error)) from error
    stored = await documents.stored_documents(source_name=source.name)
    if progress:
        progress.started(total=len(present))
    counts = {"added": 0, "updated": 0, "unchanged": 0, "chunks": 0}
    failures: list[ingestion.Failure] = []
    unchanged_urls: dict[str, str] = {}
    limit = settings.CHATBOT_DOCS_MAX_FILE_BYTES
    for path, size in sorted(present.items()):
        relative = git_mirror.relative_path(path=path, folder=folder)
        url = git_mirror.link(
            template=source.url_template, path=path, ref=source.git_ref, commit=commit
        )
        previous = stored.get(relative)
        if (
            previous is not None
            and changed is not None
            and path not in changed
            and relative not in source.failed_paths
        ):
            counts["unchanged"] += 1  # the diff says so: not even read
            unchanged_urls[relative] = url
            if progress:
                progress.advanced(path=relative)
            continue
        try:
            if size > limit:
                raise reading.Skipped(f"too large ({size:,} bytes; the limit is {limit:,})")
            try:
                data = await git_mirror.read(
                    cache=cache, commit=commit, path=path, time_limit=timeout
                )
            except git_mirror.FetchFailed as error:
                raise reading.Skipped(f"unreadable ({error})") from error
            prepared = reading.prepare_content(
                data=data, path=relative, previous_hash=previous.content_hash if previous else ""
            )
            if prepared is None:
                counts["unchanged"] += 1
                unchanged_urls[relative] = url
            else:
                created = await storing.store_document(
                    source_id=source.id, path=relative, url=url, prepared=prepared
                )
                counts["added" if created else "updated"] += 1
                counts["chunks"] += len(prepared.chunks)
        except reading.Skipped as skipped:
            failures.append(ingestion.Failure(path=relative, reason=str(skipped)))
            if progress:
                progress.failed(path=relative, reason=str(skipped))
        if progress:
            progress.advanced(path=relative)
    on_tree = {git_mirror.relative_path(path=path, folder=folder) for path in present}
    gone = sorted(path for path in stored if path not in on_tree)
    removed = await storing.finish(source_id=source.id, gone=gone, unchanged_urls=unchanged_urls)
    await git_mirror.keep(cache=cache, commit=commit, time_limit=timeout)
    return (
        ingestion.IngestionReport(
            added=counts["added"],
            updated=counts["updated"],
            unchanged=counts["unchanged"],
            removed=removed,
            failures=failures,
            chunks=counts["chunks"],
            seconds=time.perf_counter() - started,
        ),
        commit,
    )
