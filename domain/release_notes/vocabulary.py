"""The words and paths that say which group a commit belongs to, kept apart from the rules."""

import re

from domain.release_notes import classification as cc

VERSION = r"v?\d+\.\d+(?:\.\d+)?(?:[-+.][\w.]+)?"

TYPES: dict[str, cc.Group] = {
    "feat": cc.Group.FEATURES,
    "feature": cc.Group.FEATURES,
    "fix": cc.Group.FIXES,
    "bugfix": cc.Group.FIXES,
    "hotfix": cc.Group.FIXES,
    "security": cc.Group.FIXES,
    "sec": cc.Group.FIXES,
    "perf": cc.Group.PERFORMANCE,
    "docs": cc.Group.DOCUMENTATION,
    "doc": cc.Group.DOCUMENTATION,
    "refactor": cc.Group.REFACTORING,
    "test": cc.Group.TESTS,
    "tests": cc.Group.TESTS,
    "build": cc.Group.BUILD,
    "ci": cc.Group.BUILD,
    "chore": cc.Group.BUILD,
    "style": cc.Group.BUILD,
    "deps": cc.Group.DEPENDENCIES,
    "lint": cc.Group.BUILD,
    "readme": cc.Group.DOCUMENTATION,
    "revert": cc.Group.CHANGES,
    "release": cc.Group.BUILD,
}
DEPENDENCY_SCOPES = frozenset({"deps", "deps-dev", "dependencies", "dependency", "dev-deps"})


def _verbs(group: cc.Group, words: str) -> dict[str, cc.Group]:
    return dict.fromkeys(words.split(), group)


VERB_GROUPS: dict[str, cc.Group] = {
    **_verbs(
        cc.Group.FEATURES,
        "add adds added adding implement implements implemented implementing introduce "
        "introduces introduced introducing support supports supported allow allows allowed "
        "enable enables enabled new create creates created provide provides provided expose "
        "exposes exposed feature initial accept accepts offer offers",
    ),
    **_verbs(
        cc.Group.FIXES,
        "fix fixes fixed fixing bugfix hotfix resolve resolves resolved correct corrects "
        "corrected repair repairs repaired prevent prevents prevented handle handles handled "
        "avoid avoids avoided patch patched address addresses addressed restore restores "
        "restored stop stops stopped guard guards ensure ensures workaround sanitize sanitise "
        "escape escapes don't dont do not never catch catches recover reject refuse validate "
        "verify",
    ),
    **_verbs(
        cc.Group.PERFORMANCE,
        "optimize optimizes optimized optimise optimises optimised speed speeds accelerate "
        "perf faster cache caches cached memoize",
    ),
    **_verbs(
        cc.Group.DOCUMENTATION,
        "document documents documented docs doc documentation readme changelog typo typos "
        "clarify clarifies clarified explain explains comment comments",
    ),
    **_verbs(
        cc.Group.REFACTORING,
        "refactor refactors refactored refactoring rename renames renamed move moves moved "
        "extract extracts extracted simplify simplifies simplified clean cleanup cleans "
        "cleaned reorganize reorganise reorganized restructure restructured split splits tidy "
        "inline dedupe deduplicate consolidate rewrite rewrites rewrote unify decouple "
        "modernize rework reworks reworked",
    ),
    **_verbs(
        cc.Group.DEPENDENCIES,
        "bump bumps bumped upgrade upgrades upgraded pin pins pinned unpin downgrade "
        "downgrades downgraded vendor deps dependency dependencies",
    ),
    **_verbs(cc.Group.TESTS, "test tests tested testing spec specs coverage"),
    **_verbs(
        cc.Group.BUILD,
        "ci build builds lint lints format formats formatted style chore ignore configure "
        "setup dockerize package packaging",
    ),
    **_verbs(
        cc.Group.CHANGES,
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
PERFORMANCE_PHRASE = re.compile(
    r"^(?:\S+\s+){0,5}?(?:speed(?:s|ed|ing)?\s+up|faster|quicker)\b"
    r"|^(?:improve[sd]?|reduce[sd]?|lower(?:s|ed)?|cuts?|decrease[sd]?|boost(?:s|ed)?|halve[sd]?)"
    r"(?:\s+\S+){0,3}?\s+(?:performance|latency|memory|throughput|start-?up\s+time|cpu"
    r"|allocations|round\s+trips|query\s+count)\b",
    re.IGNORECASE,
)
# Words that lead a subject as a verb or as a noun: "Cache the results" is performance work,
# "Cache invalidation bug when a user logs out" names a bug.
NOUN_OR_VERB = frozenset(
    {"cache", "log", "index", "search", "export", "import", "session", "upload", "sync"}
)
BUG_NOUNS = re.compile(r"\b(?:bug|bugs|crash|regression|leak|broken|race condition)\b", re.I)
DEPENDENCY_WORDS = re.compile(
    rf"\b(dependency|dependencies|deps|from {VERSION} to {VERSION}|to {VERSION})\b",
    re.IGNORECASE,
)
VAGUE = frozenset(
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


PATH_KINDS = (
    (_DEPENDENCY_PATH, cc.Group.DEPENDENCIES),
    (_DOC_PATH, cc.Group.DOCUMENTATION),
    (_TEST_PATH, cc.Group.TESTS),
    (_BUILD_PATH, cc.Group.BUILD),
)
