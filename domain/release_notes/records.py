"""Stored release-notes runs (sync writes; call inside the caller's atomic block)."""

import dataclasses
import datetime as dt
from typing import Any

from data import models


@dataclasses.dataclass(frozen=True, kw_only=True)
class NewReleaseNotes:
    repository: str
    from_ref: str
    to_ref: str
    from_sha: str
    to_sha: str
    version: str
    markdown: str
    data: dict[str, Any]
    model: str
    commit_count: int
    counts: dict[str, Any]
    model_calls: int
    input_tokens: int
    output_tokens: int
    duration_ms: int
    created_at: dt.datetime


def too_long(*, fields: dict[str, str]) -> str:
    """The first of ``fields`` (model field name: value) longer than the database stores, as a
    one-line complaint, or "". Checked before any work, so a long --version fails at once,
    not with a DataError after minutes of model calls."""
    for name, value in fields.items():
        limit = getattr(models.ReleaseNotes._meta.get_field(name), "max_length", None)
        if limit is not None and len(value) > limit:
            label = name.replace("_", " ")
            return f"{label} is too long: {len(value)} characters, at most {limit}"
    return ""


def create(*, notes: NewReleaseNotes) -> int:
    # Not dataclasses.asdict: it deep-copies ``data`` (10,000 commits: a tenth of a second).
    fields = {field.name: getattr(notes, field.name) for field in dataclasses.fields(notes)}
    row = models.ReleaseNotes.objects.create(**fields)
    return row.pk


def mark_posted(*, release_notes_id: int, channel: str, posted_at: dt.datetime) -> None:
    models.ReleaseNotes.objects.filter(pk=release_notes_id).update(
        posted_channel=channel, posted_at=posted_at
    )
