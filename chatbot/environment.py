"""Reading settings from the environment (and a ``.env`` file), for ``chatbot/settings.py``.

Every command imports the settings, so this stays small: a few typed readers over
``os.environ``, with the one-line messages a misconfigured setting gets (``manage.py`` and the
launcher print them as ``chatbot: ...``). It replaced environs, whose validation library
compiled a Unicode e-mail regex at import: 0.05-0.1 s of every start
(docs/architecture.md, Start-up). Defaults are the code's own and are not validated.
"""

import builtins
import math
import os
from pathlib import Path
from typing import Any

# The spellings environs (marshmallow) accepted, kept so existing environments read the same.
_TRUE = frozenset({"t", "T", "true", "True", "TRUE", "on", "On", "ON"})
_TRUE |= {"y", "Y", "yes", "Yes", "YES", "1"}
_FALSE = frozenset({"f", "F", "false", "False", "FALSE", "off", "Off", "OFF"})
_FALSE |= {"n", "N", "no", "No", "NO", "0"}


class InvalidSetting(ValueError):
    """A variable is set to something its setting cannot use; the message names it."""

    def __init__(self, name: builtins.str, problem: builtins.str) -> None:
        super().__init__(f'Environment variable "{name}" invalid: {problem}')
        self.name = name


class Env:
    """Typed readers: the variable when it is set (in the environment or the file), else the
    default."""

    def __init__(self) -> None:
        self._file: dict[builtins.str, builtins.str] = {}

    def read_env(self, path: builtins.str | Path) -> bool:
        """Fill in, from the ``.env`` file at ``path`` if there is one, what the environment
        leaves unset (the environment wins; ``os.environ`` itself is left alone)."""
        if Path(path).is_dir():
            raise ValueError(f"{path} must be a file, not a directory.")
        if not Path(path).exists():
            return False
        import dotenv  # only where a file exists: most deployments have none

        for name, value in dotenv.dotenv_values(path).items():
            if value is not None:
                self._file.setdefault(name, value)
        return True

    def _raw(self, name: builtins.str) -> builtins.str | None:
        value = os.environ.get(name)
        return value if value is not None else self._file.get(name)

    def str(
        self,
        name: builtins.str,
        default: builtins.str,
        *,
        choices: builtins.list[builtins.str] | None = None,
    ) -> builtins.str:
        value = self._raw(name)
        if value is None:
            return default
        if choices is not None and value not in choices:
            raise InvalidSetting(name, f"Must be one of: {', '.join(choices)}.")
        return value

    def bool(self, name: builtins.str, default: builtins.bool) -> builtins.bool:
        value = self._raw(name)
        if value is None:
            return default
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise InvalidSetting(name, "Not a valid boolean.")

    def int(
        self, name: builtins.str, default: builtins.int, *, minimum: builtins.int | None = None
    ) -> builtins.int:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = builtins.int(value)
        except ValueError:
            raise InvalidSetting(name, "Not a valid integer.") from None
        return _at_least(name, number, minimum)

    def float(
        self, name: builtins.str, default: builtins.float, *, minimum: builtins.float | None = None
    ) -> builtins.float:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = builtins.float(value)
        except ValueError:
            raise InvalidSetting(name, "Not a valid number.") from None
        if not math.isfinite(number):
            problem = "Special numeric values (nan or infinity) are not permitted."
            raise InvalidSetting(name, problem)
        return _at_least(name, number, minimum)

    def list(
        self,
        name: builtins.str,
        default: builtins.list[builtins.str],
        *,
        delimiter: builtins.str = ",",
    ) -> builtins.list[builtins.str]:
        value = self._raw(name)
        if value is None:
            return default
        return value.split(delimiter) if value else []

    def path(self, name: builtins.str, default: Path) -> Path:
        value = self._raw(name)
        return default if value is None else Path(value)

    def dj_db_url(self, name: builtins.str, default: builtins.str) -> dict[builtins.str, Any]:
        """Django's ``DATABASES`` entry for the URL (dj-database-url's reading of it)."""
        import dj_database_url

        value = self._raw(name)
        try:
            return dict(dj_database_url.parse(default if value is None else value))
        except Exception:  # it raises ValueError, KeyError or worse for a malformed URL
            raise InvalidSetting(name, "Not a valid database URL.") from None


def _at_least[N: (int, float)](name: builtins.str, number: N, minimum: N | None) -> N:
    if minimum is not None and number < minimum:
        raise InvalidSetting(name, f"Must be greater than or equal to {minimum}.")
    return number
