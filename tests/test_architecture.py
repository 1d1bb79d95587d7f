"""The layers contract (chatbot > application > domain > data) is enforced, not just written."""

import ast
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = shutil.which("lint-imports")


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    assert LINT_IMPORTS, "import-linter is a dev dependency"
    return subprocess.run(
        [LINT_IMPORTS], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def _copy_of_the_project(tmp_path: Path) -> Path:
    for package in ("chatbot", "application", "domain", "data"):
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_project_keeps_its_layers():
    result = _lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr


def test_domain_importing_chatbot_breaks_the_contract(tmp_path):
    project = _copy_of_the_project(tmp_path)
    (project / "domain" / "uses_interface.py").write_text("from chatbot import settings\n")

    result = _lint_imports(project)

    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert "domain.uses_interface -> chatbot.settings" in result.stdout


@pytest.mark.django_db
def test_every_model_change_has_its_migration():
    """A model edited without ``makemigrations`` would break the next deploy's ``migrate``."""
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as missing:
        pytest.fail(f"models and migrations differ (exit {missing.code}):\n{out.getvalue()}")


# The one place that cleans up after a unit of work, the backend that releases by design, and
# the pools' shutdown at process exit. Anywhere else a release is done by hand.
RELEASE_ALLOWED = {
    "chatbot/units_of_work.py",
    "chatbot/database_backend/base.py",
    "chatbot/database_pools.py",
}
RELEASE_CALLS = {"close_old_connections", "close_all", "release", "release_if_idle"}


def _manual_releases(root: Path) -> list[str]:
    """Calls that give a database connection back by hand, as ``path:line call``."""
    found = []
    for package in ("chatbot", "application", "domain", "data"):
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if relative in RELEASE_ALLOWED or "/migrations/" in relative:
                continue
            for node in ast.walk(ast.parse(path.read_text(), filename=relative)):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                owner = ast.unparse(func.value) if isinstance(func, ast.Attribute) else ""
                if (
                    name in RELEASE_CALLS - {"release"}
                    or (name == "release" and owner.endswith("database"))
                    or (name == "close" and owner.split(".")[-1].startswith("connection"))
                    or (name == "close" and owner.startswith("connections["))
                ):
                    found.append(f"{relative}:{node.lineno} {ast.unparse(node)}")
    return found


def test_no_code_gives_a_connection_back_by_hand():
    """The backend releases idle connections (docs/architecture.md, "Connections")."""
    assert _manual_releases(ROOT) == []


@pytest.mark.parametrize(
    "line",
    [
        "from django.db import close_old_connections\nclose_old_connections()\n",
        "from django.db import connection\nconnection.close()\n",
        "from django import db\ndb.connections.close_all()\n",
        "from domain import database\nasync def f():\n    await database.release()\n",
    ],
)
def test_a_manual_release_coming_back_is_caught(tmp_path, line):
    project = _copy_of_the_project(tmp_path)
    (project / "application" / "sneaky.py").write_text(line)

    assert [found.split(":")[0] for found in _manual_releases(project)] == ["application/sneaky.py"]
