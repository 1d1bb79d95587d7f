"""Where a long release-notes run reports how far it got: a progress bar, or nothing."""

from typing import Protocol


class Progress(Protocol):
    def stage(self, *, name: str, total: int | None) -> None: ...

    def advance(self, *, steps: int = 1) -> None: ...


class NoProgress:
    def stage(self, *, name: str, total: int | None) -> None:
        pass

    def advance(self, *, steps: int = 1) -> None:
        pass
