"""Read a commit message once (Conventional Commits or a plain subject) into a Message."""

import dataclasses
import re

from domain.release_notes import git_log, vocabulary


@dataclasses.dataclass(frozen=True, kw_only=True)
class Message:
    """What a commit message says, parsed once."""

    kind: str  # the Conventional Commits type, lower case, or "" when not conventional
    scope: str
    description: str
    breaking: bool
    breaking_note: str
    pr: int | None
    co_authors: tuple[git_log.Person, ...]
    cherry_picked_from: str
    reverts: str
    skip_reason: str
    merge_title: str  # for merges of a pull request: the PR's title


_CONVENTIONAL = re.compile(
    r"^(?P<type>[a-zA-Z]+)(?:\((?P<scope>[^()\n]*)\))?(?P<bang>!)?:\s*(?P<desc>\S.*)$"
)
_PATH_PREFIX = re.compile(r"^(?P<scope>[\w./,*-]+(?: [\w./-]+){0,2}):\s+(?P<desc>\S.*)$")
_BRACKET_PREFIX = re.compile(r"^\[(?P<scope>[^\]]{1,40})\]\s*:?\s*(?P<desc>\S.*)$")
_PR_SUFFIX = re.compile(r"\s*\((?:[\w.-]+/[\w.-]+)?#(?P<pr>\d+)\)\s*$")
_GITHUB_MERGE = re.compile(r"^Merge pull request #(?P<pr>\d+) from (?P<branch>\S+)")
_BITBUCKET_MERGE = re.compile(r"^Merged in (?P<branch>\S+) \(pull request #(?P<pr>\d+)\)")
_GITLAB_MERGE_REQUEST = re.compile(r"^See merge request \S*!(?P<pr>\d+)\s*$", re.MULTILINE)
_BRANCH_MERGE = re.compile(r"^Merge (?:remote-tracking )?branch '(?P<branch>[^']+)'")
_BREAKING_FOOTER = re.compile(
    r"^BREAKING[ -]CHANGES?:\s*(?P<note>.*(?:\n(?![\w-]+(?: #|: )).*)*)", re.MULTILINE
)
_CO_AUTHOR = re.compile(r"^co-authored-by:\s*(?P<person>.+)$", re.MULTILINE | re.IGNORECASE)
_CHERRY_PICK = re.compile(r"\(cherry picked from commit (?P<sha>[0-9a-f]{7,40})\)")
_REVERTS = re.compile(r"This reverts commit (?P<sha>[0-9a-f]{7,40})")
_SKIP_MARKER = re.compile(
    r"\[(?:skip[ _-]?changelog|changelog[ _-]?skip|no[ _-]?changelog"
    r"|skip[ _-]?release[ _-]?notes)\]",
    re.IGNORECASE,
)
_VERSION = vocabulary.VERSION
# Matched against the whole subject, without its "(#123)" suffix, or against the description of
# a chore/build/release commit. Every version is anchored at the end: "Release 2.0 of the parser
# adds streaming" and "Update version to support Python 3.12" are changes, not bookkeeping.
_BOOKKEEPING = re.compile(
    r"^(?:(?:release|releasing|released|cut release|tag|tagged)\s*:?\s*"
    rf"(?:[\w@/.-]+\s+)?(?:version\s+)?{_VERSION}"
    rf"|(?:bump|bumped|bumps|update|updated|set)\s+(?:the\s+)?(?:package\s+|project\s+)?"
    rf"version(?:\s+number)?(?:\s+(?:to\s+)?{_VERSION})?"
    rf"|version\s+bump(?:\s+(?:to\s+)?{_VERSION})?"
    rf"|(?:update|updated|regenerate|regenerated)\s+(?:the\s+)?changelog(?:\s+for\s+{_VERSION})?"
    rf"|changelog\s*(?:for\s+)?{_VERSION}"
    r"|prepare\s+(?:for\s+)?(?:the\s+)?(?:next\s+)?"
    rf"(?:release(?:\s+{_VERSION})?|{_VERSION}(?:\s+release)?)"
    rf"|post-release(?:\s+(?:version\s+)?bump)?(?:\s+(?:to\s+)?{_VERSION})?"
    rf"|{_VERSION})\s*$",
    re.IGNORECASE,
)
# Conventional types whose description is checked for bookkeeping ("chore(main): release 1.2.0"
# from release-please, "chore: bump version to 1.2.3", "build: release 3.1.0").
_BOOKKEEPING_TYPES = frozenset({"chore", "build", "release"})


def parse_message(*, commit: git_log.Commit) -> Message:
    subject, body = commit.subject, commit.body
    pr: int | None = None
    merge_title = ""
    if commit.is_merge:
        match = _GITHUB_MERGE.match(subject) or _BITBUCKET_MERGE.match(subject)
        gitlab = _GITLAB_MERGE_REQUEST.search(body)
        if match is not None:
            pr = int(match["pr"])
        elif gitlab is not None:
            pr = int(gitlab["pr"])
        if pr is not None:
            merge_title = next(
                (
                    line.strip()
                    for line in body.splitlines()
                    if line.strip() and not _GITLAB_MERGE_REQUEST.match(line.strip())
                ),
                "",
            )
    text = merge_title or subject
    pr_match = _PR_SUFFIX.search(text)
    if pr_match is not None:
        pr = pr or int(pr_match["pr"])
        text = text[: pr_match.start()]
    kind, scope, description, bang = "", "", text.strip(), False
    conventional = _CONVENTIONAL.match(description)
    if conventional is not None and conventional["type"].lower() in vocabulary.TYPES:
        kind = conventional["type"].lower()
        scope = (conventional["scope"] or "").strip()
        description = conventional["desc"].strip()
        bang = conventional["bang"] is not None
    elif (prefix := _BRACKET_PREFIX.match(description) or _PATH_PREFIX.match(description)) and (
        _is_scope_prefix(scope=prefix["scope"], description=prefix["desc"])
    ):
        scope, description = prefix["scope"].strip(), prefix["desc"].strip()
    breaking_footer = _BREAKING_FOOTER.search(body) if body else None
    breaking_note = " ".join(breaking_footer["note"].split()) if breaking_footer else ""
    co_authors = tuple(
        person
        for match in (_CO_AUTHOR.finditer(body) if body else ())
        if (person := git_log.parse_person(text=match["person"])) is not None
    )
    cherry = _CHERRY_PICK.search(body) if body else None
    reverts = _REVERTS.search(body) if body and subject[:6].lower() == "revert" else None
    return Message(
        kind=kind,
        scope=scope,
        description=_tidy(description),
        breaking=bang or breaking_footer is not None,
        breaking_note=breaking_note,
        pr=pr,
        co_authors=co_authors,
        cherry_picked_from=cherry["sha"] if cherry else "",
        reverts=reverts["sha"] if reverts else "",
        skip_reason=_skip_reason(
            commit=commit, kind=kind, scope=scope, text=text, description=description
        ),
        merge_title=merge_title,
    )


def _is_scope_prefix(*, scope: str, description: str) -> bool:
    """Whether "x: rest" names a component ("net/http:", "Release notes:") rather than being
    a sentence with a colon ("Fix crash: handle empty input")."""
    if len(description.split()) < 2:
        return False
    words = scope.split()
    return len(words) == 1 or words[0].lower() not in vocabulary.VERB_GROUPS


def _tidy(description: str) -> str:
    description = description.strip().rstrip(".").strip()
    first = description.split(maxsplit=1)[0] if description else ""
    # An identifier keeps its case: "posted_at is ...", "bm25s ...", "manage.py ...", "`x` ...".
    identifier = first.startswith("`") or any(c in "_./" or c.isdigit() for c in first)
    if description[:1].islower() and not description[1:2].isupper() and not identifier:
        description = description[0].upper() + description[1:]
    return description


def _skip_reason(
    *, commit: git_log.Commit, kind: str, scope: str, text: str, description: str
) -> str:
    if _SKIP_MARKER.search(commit.message):
        return "marked [skip changelog]"
    if kind == "chore" and scope.lower() == "release":
        return "release bookkeeping"
    if commit.is_merge:
        return ""
    if kind in _BOOKKEEPING_TYPES and _BOOKKEEPING.match(description.strip()):
        return "release bookkeeping"
    if not kind and _BOOKKEEPING.match(text.strip()):
        return "release bookkeeping"
    return ""
