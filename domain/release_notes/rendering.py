"""Release notes as Markdown for people and as JSON for tools, from the same data."""

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from domain.release_notes import classification as cc

_SCP_REMOTE = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>(?!/)[^\s]+?)(?:\.git)?/?$")
_URL_REMOTE = re.compile(
    r"^(?:https?|ssh|git)://(?:[^@/\s]+@)?(?P<host>[\w.-]+)(?::\d+)?/(?P<path>[^\s]+?)(?:\.git)?/?$"
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Links:
    """Where a pull request or commit of the repository can be read on the web."""

    base_url: str
    gitlab: bool = False
    bitbucket: bool = False

    def pull_request(self, number: int) -> str:
        if self.gitlab:
            return f"{self.base_url}/-/merge_requests/{number}"
        if self.bitbucket:
            return f"{self.base_url}/pull-requests/{number}"
        return f"{self.base_url}/pull/{number}"

    def commit(self, sha: str) -> str:
        if self.gitlab:
            return f"{self.base_url}/-/commit/{sha}"
        if self.bitbucket:
            return f"{self.base_url}/commits/{sha}"
        return f"{self.base_url}/commit/{sha}"


def links_for(*, remote_url: str) -> Links | None:
    """https links for GitHub-, GitLab- and Bitbucket-style remotes (https, ssh, scp-like);
    None otherwise, e.g. for a local path, where a link would lead nowhere."""
    url = remote_url.strip()
    match = _URL_REMOTE.match(url) or _SCP_REMOTE.match(url)
    if match is None or "/" not in match["path"] or "." not in match["host"]:
        return None
    host = match["host"].lower()
    return Links(
        base_url=f"https://{host}/{match['path'].strip('/')}",
        gitlab="gitlab" in host,
        bitbucket="bitbucket" in host,
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Notes:
    repository: str
    from_ref: str
    to_ref: str
    from_sha: str
    to_sha: str
    version: str
    date: dt.date
    highlights: str
    classification: cc.Classification
    contributors: Sequence[cc.Contributor]
    links: Links | None

    @property
    def title(self) -> str:
        return self.version or f"{self.from_ref}..{self.to_ref}"


def summary(*, classification: cc.Classification) -> str:
    """How every commit was accounted for, e.g. "12 commits: 9 listed, 2 merged into other
    entries, 1 skipped (1 reverted in range)"."""
    listed = classification.count(cc.Disposition.LISTED)
    merged = classification.count(cc.Disposition.MERGED)
    skipped = classification.count(cc.Disposition.SKIPPED)
    text = (
        f"{len(classification.accounts)} commits: {listed} listed, "
        f"{merged} merged into other entries, {skipped} skipped"
    )
    reasons = classification.skip_reasons()
    if reasons:
        text += " (" + ", ".join(f"{n} {reason}" for reason, n in reasons.items()) + ")"
    return text


def _link(entry: cc.Entry, links: Links | None) -> str:
    if entry.pr is not None:
        label = f"!{entry.pr}" if links and links.gitlab else f"#{entry.pr}"
        return f"[{label}]({links.pull_request(entry.pr)})" if links else label
    label = entry.sha[:7]
    return f"[{label}]({links.commit(entry.sha)})" if links else label


_CODE_SPAN = re.compile(r"(`[^`\n]+`)")
_SPECIAL = re.compile(r"([\\`*_\[\]<>#~|])")
_LEADING_MARKER = re.compile(r"^(?:([-+=])|(\d+)([.)]))(?=\s|$)")


def escape(text: str) -> str:
    """Text from commits or a model, safe to put inside a line of Markdown.

    Commit messages and model output are untrusted: "[x](https://evil.example)" must not
    become a link, "__init__" or "**kwargs" must not turn into emphasis, "# Upgrade" must not
    become a heading. Markdown's special characters are escaped with a backslash, except in
    `code spans`, which render literally anyway; line breaks become spaces, so a field cannot
    start a block of its own.
    """
    text = " ".join(text.split())
    parts = _CODE_SPAN.split(text)
    for index in range(0, len(parts), 2):  # the odd ones are code spans
        parts[index] = _SPECIAL.sub(r"\\\1", parts[index])
    escaped = "".join(parts)
    # A list marker at the start would make a nested list ("- - x") or a numbered one.
    return _LEADING_MARKER.sub(
        lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", escaped, count=1
    )


def _people(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def markdown(*, notes: Notes) -> str:
    lines = [f"## {escape(notes.title)} ({notes.date.isoformat()})", ""]
    if notes.highlights.strip():
        lines += ["### Highlights", "", escape(notes.highlights), ""]
    for group, entries in notes.classification.grouped():
        lines += [f"### {cc.TITLES[group]}", ""]
        for entry in entries:
            scope = f"**{escape(entry.scope)}:** " if entry.scope else ""
            lines.append(f"- {scope}{escape(entry.description)} ({_link(entry, notes.links)})")
            if entry.breaking_note:
                lines.append(f"  {escape(entry.breaking_note)}")
        lines.append("")
    if notes.contributors:
        names = [escape(c.name) for c in notes.contributors]
        lines += ["### Contributors", "", f"Thanks to {_people(names)}.", ""]
        newcomers = [escape(c.name) for c in notes.contributors if c.first_time]
        if newcomers:
            lines += [f"First-time contributors: {_people(newcomers)}. Welcome!", ""]
    lines.append(f"_{summary(classification=notes.classification)}._")
    return "\n".join(lines) + "\n"


def data(*, notes: Notes) -> dict[str, Any]:
    """The notes for tools (``--format json``), including what became of every commit."""
    classification = notes.classification
    return {
        "version": notes.version,
        "date": notes.date.isoformat(),
        "repository": notes.repository,
        "range": {
            "from": notes.from_ref,
            "to": notes.to_ref,
            "from_sha": notes.from_sha,
            "to_sha": notes.to_sha,
        },
        "highlights": notes.highlights,
        "groups": [
            {
                "group": group.value,
                "title": cc.TITLES[group],
                "entries": [
                    {
                        "description": entry.description,
                        "scope": entry.scope,
                        "breaking": entry.breaking,
                        "breaking_note": entry.breaking_note,
                        "pull_request": entry.pr,
                        "pull_request_url": (
                            notes.links.pull_request(entry.pr)
                            if notes.links and entry.pr is not None
                            else None
                        ),
                        "sha": entry.sha,
                        "commit_url": notes.links.commit(entry.sha) if notes.links else None,
                        "commits": list(entry.shas),
                        "authored_at": entry.authored_at.isoformat(),
                        "authors": [person.name for person in entry.authors],
                    }
                    for entry in entries
                ],
            }
            for group, entries in classification.grouped()
        ],
        "contributors": [
            {"name": c.name, "commits": c.commits, "first_time": c.first_time}
            for c in notes.contributors
        ],
        "counts": counts(classification=classification),
        "commits": [
            {
                "sha": account.sha,
                "subject": account.subject,
                "disposition": account.disposition.value,
                "reason": account.reason,
                "into": account.into or None,
            }
            for account in classification.accounts
        ],
    }


def counts(*, classification: cc.Classification) -> dict[str, Any]:
    return {
        "commits": len(classification.accounts),
        "listed": classification.count(cc.Disposition.LISTED),
        "merged": classification.count(cc.Disposition.MERGED),
        "skipped": classification.count(cc.Disposition.SKIPPED),
        "skip_reasons": classification.skip_reasons(),
        "groups": {group.value: len(entries) for group, entries in classification.grouped()},
    }
