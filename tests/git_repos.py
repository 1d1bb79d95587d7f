"""Real git repositories for tests, built with plain git commands in a temporary directory."""

import itertools
import os
import subprocess
from pathlib import Path


class Repo:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._clock = itertools.count(1_700_000_000, 60)
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "--quiet", "--initial-branch=main")
        self.git("config", "user.name", "Alice Maintainer")
        self.git("config", "user.email", "alice@example.com")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str, author: tuple[str, str] | None = None) -> str:
        when = f"{next(self._clock)} +0000"
        env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
        if author is not None:
            env |= {"GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1]}
        result = subprocess.run(
            ["git", "-C", str(self.path), *args],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
        return result.stdout.strip()

    def commit(
        self,
        message: str,
        *,
        files: dict[str, str] | None = None,
        author: tuple[str, str] | None = None,
    ) -> str:
        """Commit ``files`` (path: content; a unique file by default) and return the SHA."""
        if files is None:
            files = {f"src/change_{next(self._clock)}.py": message}
        for name, content in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content + "\n")
            self.git("add", name)
        self.git("commit", "--quiet", "--allow-empty", "-m", message, author=author)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def tag(self, name: str) -> None:
        self.git("tag", name)

    def branch(self, name: str) -> None:
        self.git("checkout", "--quiet", "-b", name)

    def checkout(self, name: str) -> None:
        self.git("checkout", "--quiet", name)

    def merge(self, branch: str, message: str) -> str:
        self.git("merge", "--quiet", "--no-ff", "-m", message, branch)
        return self.head()

    def revert(self, sha: str) -> str:
        self.git("revert", "--no-edit", sha)
        return self.head()

    def cherry_pick(self, sha: str) -> str:
        self.git("cherry-pick", "-x", sha)
        return self.head()
