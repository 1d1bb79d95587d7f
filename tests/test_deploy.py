"""deploy/ runs the product with the commands the scale-out test runs, so that test covers them.

The image cannot be built here (no Docker); what can drift is checked: the web and worker
commands of the systemd units, the Dockerfile and compose.yaml, and PgBouncer's pool mode.
"""

import configparser
import shlex
from pathlib import Path

import yaml

from tests import scale_out

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def _exec_start(unit: str) -> tuple[str, ...]:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read(DEPLOY / "systemd" / unit)
    interpreter, *command = shlex.split(parser["Service"]["ExecStart"])
    assert interpreter.endswith("/.venv/bin/python")
    return tuple(command)


def test_systemd_units_run_the_scale_out_commands():
    assert _exec_start("chatbot-web@.service") == scale_out.WEB_COMMAND
    assert _exec_start("chatbot-worker@.service") == scale_out.WORKER_COMMAND


def test_image_and_compose_run_the_scale_out_commands():
    cmd = next(
        line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD ")
    )
    assert tuple(yaml.safe_load(cmd.removeprefix("CMD "))) == ("python", *scale_out.WEB_COMMAND)
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    assert tuple(services["web"]["command"]) == ("python", *scale_out.WEB_COMMAND)
    assert tuple(services["worker"]["command"]) == ("python", *scale_out.WORKER_COMMAND)
    assert set(services) == {"postgres", "pgbouncer", "migrate", "web", "worker"}
    for name in ("web", "worker"):
        assert services[name]["environment"]["DATABASE_PGBOUNCER"] == "true"


def test_pgbouncer_runs_in_transaction_mode_as_in_the_test():
    parser = configparser.ConfigParser(interpolation=None, comment_prefixes=(";", "#"))
    parser.read(DEPLOY / "pgbouncer.ini")
    assert parser["pgbouncer"]["pool_mode"] == "transaction"
    assert "pool_mode = transaction" in Path(scale_out.__file__).read_text()


def test_environment_template_names_only_documented_settings():
    documented = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line
    }
    template = {
        line.split("=", 1)[0]
        for line in (DEPLOY / "chatbot.env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert template <= {name.lstrip("# ") for name in documented}
