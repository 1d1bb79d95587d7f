"""The layers contract (chatbot > application > domain > data) is enforced, not just written."""

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
