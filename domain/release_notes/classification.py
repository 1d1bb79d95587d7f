"""Turn the commits of a range into release-note entries, without a model.

Conventional Commits are read as the spec says. Most repositories are not conventional, so
plain subjects ("Fix crash on empty input (#123)", "Bump lodash from 4 to 5") are classified by
their leading verb and by the paths they change. Nothing is silently dropped: every commit ends
up LISTED (it is an entry), MERGED into another entry (the commits of a merged pull request, a
cherry-pick of a commit in the range, the same change committed twice, the same pull request
twice) or SKIPPED with a reason (reverted in the same range, release bookkeeping,
``[skip changelog]``).
"""

import bisect
import collections
import dataclasses
import datetime as dt
import enum
import functools
import re
from collections.abc import Iterable, Sequence

from domain.release_notes import git_log


class Group(enum.StrEnum):
    BREAKING = "BREAKING"
    FEATURES = "FEATURES"
    FIXES = "FIXES"
    PERFORMANCE = "PERFORMANCE"
    CHANGES = "CHANGES"
    DOCUMENTATION = "DOCUMENTATION"
    REFACTORING = "REFACTORING"
    DEPENDENCIES = "DEPENDENCIES"
    TESTS = "TESTS"
    BUILD = "BUILD"
    OTHER = "OTHER"


TITLES: dict[Group, str] = {
    Group.BREAKING: "Breaking changes",
    Group.FEATURES: "Features",
    Group.FIXES: "Fixes",
    Group.PERFORMANCE: "Performance",
    Group.CHANGES: "Changes",
    Group.DOCUMENTATION: "Documentation",
    Group.REFACTORING: "Refactoring",
    Group.DEPENDENCIES: "Dependencies",
    Group.TESTS: "Tests",
    Group.BUILD: "Build and maintenance",
    Group.OTHER: "Other",
}
# Breaking changes first, then what users notice most, then internal work, Other last.
ORDER: tuple[Group, ...] = tuple(Group)


class Disposition(enum.StrEnum):
    LISTED = "LISTED"
    MERGED = "MERGED"
    SKIPPED = "SKIPPED"


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


@dataclasses.dataclass(frozen=True, kw_only=True)
class Entry:
    """One line of the release notes."""

    sha: str  # the commit the entry is named after
    shas: tuple[str, ...]  # every commit the entry stands for, its own first
    group: Group
    scope: str
    description: str
    breaking_note: str
    pr: int | None
    authors: tuple[git_log.Person, ...]
    authored_at: dt.datetime
    clear: bool  # the message already says what changed; no model needed
    subject: str
    body: str
    paths: tuple[str, ...]

    @property
    def breaking(self) -> bool:
        return self.group is Group.BREAKING


@dataclasses.dataclass(frozen=True, kw_only=True)
class Account:
    """What became of one commit."""

    sha: str
    subject: str
    disposition: Disposition
    reason: str  # why it was merged or skipped; "" when listed
    into: str  # the entry's sha when merged
    # Who the commit credits: its author and co-authors, but not whoever pressed the merge
    # button of a pull request whose own commits are in the range.
    credited: tuple[git_log.Person, ...] = ()


@dataclasses.dataclass(frozen=True, kw_only=True)
class Classification:
    entries: tuple[Entry, ...]
    accounts: tuple[Account, ...]

    def count(self, disposition: Disposition) -> int:
        return sum(1 for account in self.accounts if account.disposition is disposition)

    def skip_reasons(self) -> dict[str, int]:
        counter = collections.Counter(
            _reason_kind(account.reason)
            for account in self.accounts
            if account.disposition is Disposition.SKIPPED
        )
        return dict(counter.most_common())

    def contributor_keys(self) -> set[str]:
        """Keys (see ``Person.key``) of the people ``contributors`` would name."""
        return {person.key for person in self.credited()}

    def credited(self) -> Iterable[git_log.Person]:
        """Everyone credited by a commit that is not skipped, once per commit, bots left out."""
        for account in self.accounts:
            if account.disposition is not Disposition.SKIPPED:
                yield from (person for person in account.credited if not _is_bot(person))

    def grouped(self) -> list[tuple[Group, list[Entry]]]:
        by_group: dict[Group, list[Entry]] = collections.defaultdict(list)
        for entry in self.entries:
            by_group[entry.group].append(entry)
        return [
            (group, sorted(by_group[group], key=lambda e: (e.scope.lower(), e.authored_at, e.sha)))
            for group in ORDER
            if by_group[group]
        ]


def _reason_kind(reason: str) -> str:
    return reason.split(":", 1)[0]


# --- message parsing -------------------------------------------------------------------------

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
_VERSION = r"v?\d+\.\d+(?:\.\d+)?(?:[-+.][\w.]+)?"
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

_TYPES: dict[str, Group] = {
    "feat": Group.FEATURES,
    "feature": Group.FEATURES,
    "fix": Group.FIXES,
    "bugfix": Group.FIXES,
    "hotfix": Group.FIXES,
    "security": Group.FIXES,
    "sec": Group.FIXES,
    "perf": Group.PERFORMANCE,
    "docs": Group.DOCUMENTATION,
    "doc": Group.DOCUMENTATION,
    "refactor": Group.REFACTORING,
    "test": Group.TESTS,
    "tests": Group.TESTS,
    "build": Group.BUILD,
    "ci": Group.BUILD,
    "chore": Group.BUILD,
    "style": Group.BUILD,
    "deps": Group.DEPENDENCIES,
    "lint": Group.BUILD,
    "readme": Group.DOCUMENTATION,
    "revert": Group.CHANGES,
    "release": Group.BUILD,
}
_DEPENDENCY_SCOPES = frozenset({"deps", "deps-dev", "dependencies", "dependency", "dev-deps"})


def _verbs(group: Group, words: str) -> dict[str, Group]:
    return dict.fromkeys(words.split(), group)


_VERB_GROUPS: dict[str, Group] = {
    **_verbs(
        Group.FEATURES,
        "add adds added adding implement implements implemented implementing introduce "
        "introduces introduced introducing support supports supported allow allows allowed "
        "enable enables enabled new create creates created provide provides provided expose "
        "exposes exposed feature initial accept accepts offer offers",
    ),
    **_verbs(
        Group.FIXES,
        "fix fixes fixed fixing bugfix hotfix resolve resolves resolved correct corrects "
        "corrected repair repairs repaired prevent prevents prevented handle handles handled "
        "avoid avoids avoided patch patched address addresses addressed restore restores "
        "restored stop stops stopped guard guards ensure ensures workaround sanitize sanitise "
        "escape escapes don't dont do not never catch catches recover reject refuse validate "
        "verify",
    ),
    **_verbs(
        Group.PERFORMANCE,
        "optimize optimizes optimized optimise optimises optimised speed speeds accelerate "
        "perf faster cache caches cached memoize",
    ),
    **_verbs(
        Group.DOCUMENTATION,
        "document documents documented docs doc documentation readme changelog typo typos "
        "clarify clarifies clarified explain explains comment comments",
    ),
    **_verbs(
        Group.REFACTORING,
        "refactor refactors refactored refactoring rename renames renamed move moves moved "
        "extract extracts extracted simplify simplifies simplified clean cleanup cleans "
        "cleaned reorganize reorganise reorganized restructure restructured split splits tidy "
        "inline dedupe deduplicate consolidate rewrite rewrites rewrote unify decouple "
        "modernize rework reworks reworked",
    ),
    **_verbs(
        Group.DEPENDENCIES,
        "bump bumps bumped upgrade upgrades upgraded pin pins pinned unpin downgrade "
        "downgrades downgraded vendor deps dependency dependencies",
    ),
    **_verbs(Group.TESTS, "test tests tested testing spec specs coverage"),
    **_verbs(
        Group.BUILD,
        "ci build builds lint lints format formats formatted style chore ignore configure "
        "setup dockerize package packaging",
    ),
    **_verbs(
        Group.CHANGES,
        "update updates updated change changes changed improve improves improved enhance "
        "enhances enhanced tweak tweaks adjust adjusts adjusted use uses switch switches "
        "replace replaces replaced remove removes removed delete deletes deleted drop drops "
        "dropped deprecate deprecates deprecated disable disables disabled increase increases "
        "decrease decreases reduce reduces raise raises lower lowers limit limits make makes "
        "let lets show shows hide hides display displays return returns respect honor honour "
        "set sets expand extend extends refine polish convert converts default mark skip "
        "migrate migrates require requires keep revert reverts reverted undo send relay "
        "translate greet welcome answer reply ask notify warn log record store save post "
        "publish report track emit render parse check retry stream merge sort filter link "
        "load read write run start finish serve close open give pass count measure label "
        "wrap call fetch cap list print index search rank highlight detect compute schedule "
        "queue reuse share generate trim truncate strip normalize normalise "
        "include exclude name describe",
    ),
}
# Performance work says so near its start: "faster" or "speed up" in its first words, or an
# improvement verb on a performance noun ("Reduce memory usage", "Improve search latency"). A
# noun alone is not enough: "Log slow queries", "Show latency on the status page".
_PERFORMANCE_PHRASE = re.compile(
    r"^(?:\S+\s+){0,5}?(?:speed(?:s|ed|ing)?\s+up|faster|quicker)\b"
    r"|^(?:improve[sd]?|reduce[sd]?|lower(?:s|ed)?|cuts?|decrease[sd]?|boost(?:s|ed)?|halve[sd]?)"
    r"(?:\s+\S+){0,3}?\s+(?:performance|latency|memory|throughput|start-?up\s+time|cpu"
    r"|allocations|round\s+trips|query\s+count)\b",
    re.IGNORECASE,
)
# Words that lead a subject as a verb or as a noun: "Cache the results" is performance work,
# "Cache invalidation bug when a user logs out" names a bug.
_NOUN_OR_VERB = frozenset(
    {"cache", "log", "index", "search", "export", "import", "session", "upload", "sync"}
)
_BUG_NOUNS = re.compile(r"\b(?:bug|bugs|crash|regression|leak|broken|race condition)\b", re.I)
_DEPENDENCY_WORDS = re.compile(
    rf"\b(dependency|dependencies|deps|from {_VERSION} to {_VERSION}|to {_VERSION})\b",
    re.IGNORECASE,
)
_VAGUE = frozenset(
    [
        "wip",
        "misc",
        "update",
        "updates",
        "changes",
        "fixes",
        "stuff",
        "minor",
        "tweaks",
        "cleanup",
        "improvements",
        "tmp",
        "temp",
        "more",
        "fix",
        "test",
        "more changes",
        "small changes",
        "minor changes",
        "minor fixes",
        "small fixes",
        "some fixes",
        "various fixes",
        "misc fixes",
        "work in progress",
        "fixup",
    ]
)

_VAGUE_LONGEST = max(len(phrase) for phrase in _VAGUE)

_DOC_PATH = re.compile(
    r"(^|/)(docs?|documentation)/|\.(md|rst|adoc)$|(^|/)(README|CHANGELOG|CHANGES|"
    r"AUTHORS|CONTRIBUTING|LICENSE|NEWS)[^/]*$",
    re.IGNORECASE,
)
_TEST_PATH = re.compile(
    r"(^|/)(tests?|__tests__|spec|testing|testdata|fixtures)/|(^|/)test_[^/]*$|_test\.\w+$|"
    r"\.(test|spec)\.\w+$|(^|/)conftest\.py$",
    re.IGNORECASE,
)
_BUILD_PATH = re.compile(
    r"(^|/)\.(github|gitlab|circleci|buildkite|husky|devcontainer)/|(^|/)\.(travis|gitlab-ci)"
    r"\.yml$|(^|/)(Makefile|Dockerfile|docker-compose[^/]*|Jenkinsfile|tox\.ini|noxfile\.py|"
    r"\.pre-commit-config\.yaml|\.gitignore|\.editorconfig|\.dockerignore|Procfile)$",
    re.IGNORECASE,
)
_DEPENDENCY_PATH = re.compile(
    r"(^|/)(package-lock\.json|yarn\.lock|pnpm-lock\.yaml|requirements[^/]*\.(txt|in)|"
    r"poetry\.lock|uv\.lock|Pipfile(\.lock)?|Cargo\.lock|go\.sum|go\.mod|Gemfile(\.lock)?|"
    r"composer\.lock|gradle\.lockfile|\.?renovate\.json|dependabot\.yml)$",
    re.IGNORECASE,
)


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
    if conventional is not None and conventional["type"].lower() in _TYPES:
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
    return len(words) == 1 or words[0].lower() not in _VERB_GROUPS


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


# --- classification ------------------------------------------------------------------------


_PATH_KINDS = (
    (_DEPENDENCY_PATH, Group.DEPENDENCIES),
    (_DOC_PATH, Group.DOCUMENTATION),
    (_TEST_PATH, Group.TESTS),
    (_BUILD_PATH, Group.BUILD),
)


@functools.lru_cache(maxsize=8192)
def _path_kinds(path: str) -> tuple[Group, ...]:
    # Cached: a range touches the same files over and over.
    return tuple(group for pattern, group in _PATH_KINDS if pattern.search(path))


def _path_group(paths: Sequence[str]) -> Group | None:
    """The first of dependencies, docs, tests and build files that every path is."""
    if not paths:
        return None
    common = _path_kinds(paths[0])
    for path in paths[1:]:
        if not common:
            return None
        kinds = _path_kinds(path)
        common = tuple(group for group in common if group in kinds)
    return common[0] if common else None


def _first_word(description: str) -> str:
    words = re.findall(r"[A-Za-z][A-Za-z']*", description)
    return words[0].lower() if words else ""


_INFLECTIONS = (
    ("ies", ("y",)),
    ("ied", ("y",)),
    ("es", ("", "e")),
    ("s", ("",)),
    ("ed", ("", "e")),
    ("ing", ("", "e")),
)


def _verb_group(word: str) -> Group | None:
    """The group of a leading word, read as the verb it inflects ("Sends", "Relayed",
    "Logging"), so the lists need only base forms."""
    group = _VERB_GROUPS.get(word)
    if group is not None:
        return group
    for suffix, endings in _INFLECTIONS:
        stem = word.removesuffix(suffix)
        if stem == word or len(stem) < 2:
            continue
        for ending in endings:
            group = _VERB_GROUPS.get(stem + ending)
            if group is not None:
                return group
        if len(stem) >= 3 and stem[-1] == stem[-2]:  # "stopped", "logging"
            group = _VERB_GROUPS.get(stem[:-1])
            if group is not None:
                return group
    return None


def _group(*, message: Message, paths: Sequence[str]) -> tuple[Group, bool]:
    """The group of a commit from its type, else its changed paths, else its leading verb,
    and whether a rule decided it (False: a guess from the subject's shape).

    A ``chore`` is build and maintenance unless its paths say otherwise (only docs, tests or
    lockfiles): its verb is not read.
    """
    if message.breaking:
        return Group.BREAKING, True
    if message.scope.lower() in _DEPENDENCY_SCOPES:
        return Group.DEPENDENCIES, True
    if message.kind and message.kind != "chore":
        return _TYPES[message.kind], True
    by_path = _path_group(paths)
    if by_path is not None:
        # "Fix typo in README", "Add tests for X", "Fix CI cache": a change that only touches
        # docs, tests, build files or lockfiles is that kind of work, whatever its verb.
        return by_path, True
    if message.kind == "chore":
        # The author said it is housekeeping: "chore: add a make target" is no feature.
        return Group.BUILD, True
    description = message.description
    first = _first_word(description)
    if first in _NOUN_OR_VERB and _BUG_NOUNS.search(description):
        return Group.FIXES, True
    verb = _verb_group(first)
    if verb in {Group.CHANGES, Group.REFACTORING, None} and _PERFORMANCE_PHRASE.search(description):
        return Group.PERFORMANCE, True
    if verb is Group.CHANGES and _DEPENDENCY_WORDS.search(description):
        return Group.DEPENDENCIES, True
    if verb is not None:
        return verb, True
    if _BUG_NOUNS.search(description):
        return Group.FIXES, True  # "Crash when saving drafts", "Memory leak in the exporter"
    if paths and len(description.split()) >= 3 and not is_vague(description):
        # A subject that says something about source code ("Search ranks with BM25 postings")
        # is a change; a model, when there is one, may still place it better.
        return Group.CHANGES, False
    return Group.OTHER, False


def is_vague(description: str) -> bool:
    """Whether a description says nothing a reader could use ("wip", "misc", "more changes")."""
    if len(description) > _VAGUE_LONGEST + 8:  # no vague phrase is this long, even padded
        return False
    words = re.findall(r"[a-z']+", description.lower())
    return not words or " ".join(words) in _VAGUE


def _is_clear(*, message: Message, group: Group, decided: bool) -> bool:
    if group is Group.OTHER or not decided or len(message.description.split()) < 3:
        return False
    return not is_vague(message.description)


# --- assembly --------------------------------------------------------------------------------


@dataclasses.dataclass(kw_only=True)
class _State:
    disposition: Disposition = Disposition.LISTED
    reason: str = ""
    into: str = ""


def _claims(
    *, by_sha: dict[str, git_log.Commit], tip: str
) -> tuple[list[str], dict[str, list[str]]]:
    """The first-parent line from the tip, and for each merge on it the commits it brought in.

    Walking the merges oldest first and stopping at commits already claimed gives each commit
    to the first merge that brought it in, in one pass over the range.
    """
    mainline: list[str] = []
    current: str | None = tip
    while current is not None and current in by_sha:
        mainline.append(current)
        parents = by_sha[current].parents
        current = parents[0] if parents else None
    on_mainline = set(mainline)
    claimed: set[str] = set()
    members: dict[str, list[str]] = {}
    for sha in reversed(mainline):
        commit = by_sha[sha]
        if not commit.is_merge:
            continue
        found: list[str] = []
        stack = [p for p in commit.parents[1:] if p in by_sha]
        while stack:
            candidate = stack.pop()
            if candidate in claimed or candidate in on_mainline:
                continue
            claimed.add(candidate)
            found.append(candidate)
            stack.extend(p for p in by_sha[candidate].parents if p in by_sha)
        members[sha] = found
    return mainline, members


class _ShaIndex:
    """Finds a commit of the range by its full or abbreviated SHA.

    ``cherry-pick -x`` backports name commits outside the range as a rule, so a miss must be
    cheap: a dict for full SHAs, a sorted list searched by bisection for abbreviations.
    """

    def __init__(self, shas: Iterable[str]) -> None:
        self._full = set(shas)
        self._sorted = sorted(self._full)

    def find(self, sha: str) -> str:
        """The SHA in the range that ``sha`` names; "" when none does, or when an abbreviation
        is ambiguous (git would refuse it too)."""
        if sha in self._full:
            return sha
        if len(sha) < 7 or len(sha) >= 40:
            return ""
        start = bisect.bisect_left(self._sorted, sha)
        found = self._sorted[start : start + 2]
        matches = [candidate for candidate in found if candidate.startswith(sha)]
        return matches[0] if len(matches) == 1 else ""


def classify(*, commits: Iterable[git_log.Commit], tip: str) -> Classification:
    """Entries and an account of every commit for the range whose newest commit is ``tip``."""
    by_sha = {commit.sha: commit for commit in commits}
    index = _ShaIndex(by_sha)
    messages = {sha: parse_message(commit=commit) for sha, commit in by_sha.items()}
    # Oldest first; git's own order breaks ties between equal timestamps.
    position = {sha: index for index, sha in enumerate(by_sha)}
    chronological = sorted(by_sha, key=lambda s: (by_sha[s].authored_at, -position[s]))
    _, members = _claims(by_sha=by_sha, tip=tip)
    states = {sha: _State() for sha in by_sha}

    def skip(sha: str, reason: str) -> None:
        states[sha] = _State(disposition=Disposition.SKIPPED, reason=reason)

    # Skip rules. A skipped pull request takes its commits with it.
    for sha in chronological:
        reason = messages[sha].skip_reason
        if reason:
            skip(sha, reason)
            for member in members.get(sha, ()):
                skip(member, f"{reason}: part of skipped {by_sha[sha].subject[:60]!r}")

    # Reverts, newest first so that reverting a revert brings the original back.
    for sha in reversed(chronological):
        target = index.find(messages[sha].reverts) if messages[sha].reverts else ""
        if not target or states[sha].disposition is Disposition.SKIPPED:
            continue
        if states[target].disposition is Disposition.SKIPPED:
            continue
        skip(sha, f"reverted in range: reverts {target[:10]}")
        skip(target, f"reverted in range: reverted by {sha[:10]}")
        for member in members.get(target, ()):
            skip(member, f"reverted in range: merged by {target[:10]}, reverted by {sha[:10]}")

    # GitHub's Revert button opens a pull request holding the revert: once the revert and what
    # it reverts cancel out, the merge of that pull request has nothing left to say either.
    for sha in chronological:
        inside = members.get(sha, ())
        if (
            messages[sha].pr is not None
            and inside
            and states[sha].disposition is Disposition.LISTED
            and all(states[m].reason.startswith("reverted in range") for m in inside)
        ):
            skip(sha, "reverted in range: merges only commits that cancel out")

    def merge(sha: str, into: str, reason: str) -> None:
        states[sha] = _State(disposition=Disposition.MERGED, reason=reason, into=into)

    def owner(sha: str) -> str:
        while states[sha].disposition is Disposition.MERGED:
            sha = states[sha].into
        return sha

    # A merged pull request is one entry; its commits are merged into it.
    for sha in chronological:
        pr = messages[sha].pr
        if (
            by_sha[sha].is_merge
            and pr is not None
            and states[sha].disposition is Disposition.LISTED
        ):
            for member in members.get(sha, ()):
                if states[member].disposition is not Disposition.SKIPPED:
                    merge(member, sha, f"pull request: part of #{pr}")

    # Cherry-picks of a commit in the range, the same change committed twice (a cherry-pick
    # without -x or a rebased copy keeps the author, the author date and the subject), and the
    # same pull request twice.
    first_with_pr: dict[int, str] = {}
    first_of_change: dict[tuple[str, dt.datetime, str], str] = {}
    for sha in chronological:
        commit, message = by_sha[sha], messages[sha]
        disposition = states[sha].disposition
        if disposition is Disposition.SKIPPED:
            continue
        copy_of = sha
        if not commit.is_merge:
            key = (commit.author.key, commit.authored_at, commit.subject)
            copy_of = first_of_change.setdefault(key, sha)
        if disposition is not Disposition.LISTED or (commit.is_merge and message.pr is None):
            continue
        original = index.find(message.cherry_picked_from) if message.cherry_picked_from else ""
        if original and original != sha and states[original].disposition is not Disposition.SKIPPED:
            merge(sha, owner(original), f"cherry-pick: of {original[:10]}")
            continue
        if copy_of != sha:
            merge(sha, owner(copy_of), f"same change: as {copy_of[:10]}")
            continue
        if message.pr is not None:
            earlier = first_with_pr.get(message.pr)
            if earlier is not None and owner(earlier) != sha:
                merge(sha, owner(earlier), f"same pull request: #{message.pr}")
                continue
            first_with_pr[message.pr] = sha

    # Merges of a branch without a pull request: fold into what they brought in.
    for sha in chronological:
        commit = by_sha[sha]
        if not commit.is_merge or messages[sha].pr is not None:
            continue
        if states[sha].disposition is not Disposition.LISTED:
            continue
        kept = [m for m in members.get(sha, ()) if states[m].disposition is not Disposition.SKIPPED]
        if kept:
            target = min(kept, key=lambda m: (by_sha[m].authored_at, -position[m]))
            merge(sha, owner(target), f"merge commit: of {commit.subject[:60]!r}")
        else:
            skip(sha, "merge commit with no changes of its own")

    merged_into: dict[str, list[str]] = collections.defaultdict(list)
    for sha in chronological:
        if states[sha].disposition is Disposition.MERGED:
            merged_into[owner(sha)].append(sha)
    credited = {
        sha: _credited(
            commit=by_sha[sha],
            message=messages[sha],
            merge_button=any(
                states[m].disposition is Disposition.MERGED for m in members.get(sha, ())
            ),
        )
        for sha in chronological
    }
    entries = [
        _entry(
            sha=sha,
            by_sha=by_sha,
            messages=messages,
            merged=merged_into[sha],
            credited=credited,
        )
        for sha in chronological
        if states[sha].disposition is Disposition.LISTED
    ]
    accounts = tuple(
        Account(
            sha=sha,
            subject=by_sha[sha].subject,
            disposition=states[sha].disposition,
            reason=states[sha].reason,
            into=owner(sha) if states[sha].disposition is Disposition.MERGED else "",
            credited=credited[sha],
        )
        for sha in chronological
    )
    return Classification(entries=tuple(entries), accounts=accounts)


def _credited(
    *, commit: git_log.Commit, message: Message, merge_button: bool
) -> tuple[git_log.Person, ...]:
    """The commit's author and co-authors, once each; a pull request's merge commit whose
    commits are in the range leaves out its author, who only pressed the merge button."""
    people = message.co_authors
    if not (merge_button and message.pr is not None):
        people = (commit.author, *people)
    unique: dict[str, git_log.Person] = {}
    for person in people:
        unique.setdefault(person.key, person)
    return tuple(unique.values())


def _entry(
    *,
    sha: str,
    by_sha: dict[str, git_log.Commit],
    messages: dict[str, Message],
    merged: list[str],
    credited: dict[str, tuple[git_log.Person, ...]],
) -> Entry:
    commit, message = by_sha[sha], messages[sha]
    shas = (sha, *merged)
    paths = (
        tuple(dict.fromkeys(path for s in shas for path in by_sha[s].paths))
        if merged
        else commit.paths
    )
    group, decided = _group(message=message, paths=paths)
    chosen = message
    if not decided or is_vague(message.description):
        # A merge titled "Merge branch x", a PR titled "wip", a squash of vague commits: let
        # the clearest commit inside speak, the oldest in the most important group.
        candidates = []
        for position, s in enumerate(merged):
            member_group, member_decided = _group(message=messages[s], paths=by_sha[s].paths)
            if member_decided and not is_vague(messages[s].description):
                candidates.append((ORDER.index(member_group), position, s))
        if candidates:
            rank, _, best = min(candidates)
            group, decided = ORDER[rank], True
            if is_vague(message.description):
                chosen = messages[best]
    description = chosen.description
    breaking_notes = [messages[s].breaking_note for s in shas if messages[s].breaking_note]
    if any(messages[s].breaking for s in shas):
        group = Group.BREAKING
    people: dict[str, git_log.Person] = {}
    for s in shas:
        for person in credited[s]:
            people.setdefault(person.key, person)
    return Entry(
        sha=sha,
        shas=shas,
        group=group,
        scope=message.scope or chosen.scope,
        description=description or commit.subject,
        breaking_note=" ".join(dict.fromkeys(breaking_notes)),
        pr=message.pr,
        authors=tuple(people.values()),
        authored_at=commit.authored_at,
        clear=_is_clear(message=chosen, group=group, decided=decided),
        subject=message.merge_title or commit.subject,
        body=commit.body,
        paths=paths,
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Contributor:
    name: str
    commits: int
    first_time: bool


def contributors(*, classification: Classification, earlier: set[str]) -> list[Contributor]:
    """Who contributed what is listed (authors and co-authors, bots left out), most active
    first; first-time contributors had no commit before the range (``earlier`` holds the keys
    of those who had)."""
    counts: collections.Counter[str] = collections.Counter()
    names: dict[str, str] = {}
    for person in classification.credited():
        counts[person.key] += 1
        names.setdefault(person.key, person.name or person.email)
    return [
        Contributor(name=names[key], commits=n, first_time=key not in earlier)
        for key, n in sorted(counts.items(), key=lambda item: (-item[1], names[item[0]].lower()))
    ]


def _is_bot(person: git_log.Person) -> bool:
    return "[bot]" in person.name or "[bot]" in person.email
