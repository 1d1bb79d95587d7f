"""Benchmark: `manage.py release_notes --offline` beside git-cliff, as whole processes.

    git clone --no-checkout https://github.com/pydantic/pydantic-ai bench/.cache/pydantic-ai
    uv run python bench/release_notes_vs_git_cliff.py \
        [--repo bench/.cache/pydantic-ai] [--from v1.95.0] [--to v2.23.0] [--runs 5]

Both tools get the same range of a real repository and are timed from exec to exit, best of
``--runs`` (after one untimed run each, so both read a warm page cache), the runs interleaved
so that noise from other work on the machine hits both alike:

- ours: ``python manage.py release_notes --offline`` (Python and Django start-up, imports, the
  git log, classifying, rendering, storing the notes in PostgreSQL, writing the file);
- git-cliff (the dev dependency, a Rust binary) with ``bench/cliff.toml``: one release for the
  range, grouped by Conventional Commits type and leading verb, pull requests linked,
  contributors listed; no remote calls.

Then ``manage.py help`` and ``manage.py check`` as whole processes, best of ``--runs``, with
``DJANGO_DEBUG=true`` and with the defaults ``make run`` has (DEBUG off, a generated secret
key); and the floors under them: ``python -c pass``, ``django.setup()`` with our settings, and
``django.setup()`` with only Django's contrib apps and its PostgreSQL backend (no code of
ours, no procrastinate). Without DATABASE_URL a throwaway PostgreSQL cluster is started for
the run. Nothing here is run by CI or ``make test``: it needs the pydantic-ai clone above.
"""

import argparse
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(ROOT))
CONFIG = BENCH_DIR / "cliff.toml"
HOW_TO_GET = (
    "git clone --no-checkout https://github.com/pydantic/pydantic-ai bench/.cache/pydantic-ai"
)


def _database(stack: ExitStack) -> None:
    if os.environ.get("DATABASE_URL"):
        return
    from chatbot import embedded_postgres

    root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-pg-")))
    cluster = stack.enter_context(
        embedded_postgres.running(data_dir=root / "data", socket_dir=root / "run", durable=False)
    )
    cluster.create_database(name="bench")
    os.environ["DATABASE_URL"] = cluster.url(dbname="bench")


class Run:
    """One whole process: wall time, and CPU time (user + system, its children included)."""

    def __init__(self, command: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> None:
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            started = time.perf_counter()
            process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, text=True, env=env)
            # wait4, not Popen.wait: it also gives the process's usage, its children included.
            _, status, usage = os.wait4(process.pid, 0)
            self.wall = time.perf_counter() - started
            process.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            self.stdout, self.stderr = out.read(), err.read()
        self.cpu = usage.ru_utime + usage.ru_stime
        if process.returncode != 0:
            sys.exit(f"{' '.join(command)} failed ({process.returncode}):\n{self.stderr}")


# Django with its contrib apps and PostgreSQL backend, configured in place: what any Django
# process with an admin on PostgreSQL starts with, before procrastinate and our code.
_DJANGO_ALONE = """
import django
from django.conf import settings
settings.configure(
    INSTALLED_APPS=[
        *("django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes"),
        *("django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles"),
        "django.contrib.postgres",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "bench"}},
)
django.setup()
"""


def _machine() -> str:
    model = "unknown CPU"
    with Path("/proc/cpuinfo").open() as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {model}"


def _load() -> str:
    return " ".join(f"{load:.1f}" for load in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", type=Path, default=BENCH_DIR / ".cache" / "pydantic-ai")
    parser.add_argument("--from", dest="from_ref", default="v1.95.0")
    parser.add_argument("--to", dest="to_ref", default="v2.23.0")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    repo = args.repo.resolve()
    if not (repo / ".git").exists() and not (repo / "HEAD").exists():
        sys.exit(f"no repository at {repo}; get it with:\n    {HOW_TO_GET}")
    git_cliff = shutil.which("git-cliff", path=str(Path(sys.executable).parent))
    git_cliff = git_cliff or shutil.which("git-cliff")
    if git_cliff is None:
        sys.exit("git-cliff is not installed: it is a dev dependency, run `make sync`")
    os.environ.setdefault("DJANGO_DEBUG", "true")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    commits = subprocess.run(
        ["git", "-C", str(repo), "rev-list", "--count", f"{args.from_ref}..{args.to_ref}"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    version = subprocess.run([git_cliff, "--version"], capture_output=True, text=True, check=True)

    with ExitStack() as stack:
        _database(stack)
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "--verbosity", "0"], cwd=ROOT, check=True)
        out = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-notes-")))
        ours = [*manage, "release_notes", "--repo", str(repo), "--from", args.from_ref]
        ours += ["--to", args.to_ref, "--version", args.to_ref, "--offline"]
        ours += ["--output", str(out / "ours.md")]
        # git-cliff 2.14.2 given --repository fails here with a bare "No such file or
        # directory" (seen with this clone without a checkout); run in the repository instead.
        theirs = [git_cliff, "--config", str(CONFIG), f"{args.from_ref}..{args.to_ref}"]
        theirs += ["--output", str(out / "git-cliff.md")]

        # `make run`'s defaults: DEBUG off, the secret key it generates once into .data/.
        defaults = {k: v for k, v in os.environ.items() if k != "DJANGO_DEBUG"}
        defaults["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(64)
        setup = "import django; django.setup()"
        ours_setup = {**os.environ, "DJANGO_SETTINGS_MODULE": "chatbot.settings"}
        commands: dict[str, Callable[[], Run]] = {
            "ours": lambda: Run(ours, cwd=ROOT),
            "git-cliff": lambda: Run(theirs, cwd=repo),
            "help": lambda: Run([*manage, "help"], cwd=ROOT),
            "check": lambda: Run([*manage, "check"], cwd=ROOT),
            "help, defaults": lambda: Run([*manage, "help"], cwd=ROOT, env=defaults),
            "check, defaults": lambda: Run([*manage, "check"], cwd=ROOT, env=defaults),
            "setup": lambda: Run([sys.executable, "-c", setup], cwd=ROOT, env=ours_setup),
            "django alone": lambda: Run([sys.executable, "-c", _DJANGO_ALONE], cwd=ROOT),
            "python -c pass": lambda: Run([sys.executable, "-c", "pass"], cwd=ROOT),
        }
        load_before = _load()
        runs: dict[str, list[Run]] = {name: [] for name in commands}
        for run in commands.values():
            run()  # warm-up: page cache, PostgreSQL's first connections
        for _ in range(args.runs):
            for name, run in commands.items():
                runs[name].append(run())
        load_after = _load()
        summary = runs["ours"][-1].stderr.strip().splitlines()[-1]
        cliff_notes = (out / "git-cliff.md").read_text().split("### Contributors")[0]
        cliff_entries = len(re.findall(r"^- ", cliff_notes, re.MULTILINE))

    wall = {name: [run.wall for run in done] for name, done in runs.items()}
    cpu = {name: [run.cpu for run in done] for name, done in runs.items()}
    print(f"\nmachine: {_machine()}; load average {load_before} before, {load_after} after")
    print(f"repository: {repo} ({args.from_ref}..{args.to_ref}, {commits} commits)")
    print(f"ours: {summary}")
    print(f"git-cliff: {version.stdout.strip()}, {cliff_entries} entries")
    print(f"\nwhole processes, {args.runs} runs each, interleaved:\n")
    print("| command | wall, best | wall, median | CPU, best |")
    print("| --- | ---: | ---: | ---: |")
    for name, label in [
        ("ours", "`manage.py release_notes --offline`"),
        ("git-cliff", "`git-cliff`"),
        ("help", "`manage.py help`, DJANGO_DEBUG=true"),
        ("check", "`manage.py check`, DJANGO_DEBUG=true"),
        ("help, defaults", "`manage.py help`, defaults (DEBUG off)"),
        ("check, defaults", "`manage.py check`, defaults (DEBUG off)"),
        ("setup", "`django.setup()`, our settings"),
        ("django alone", "`django.setup()`, Django's contrib apps only"),
        ("python -c pass", "`python -c pass`"),
    ]:
        print(
            f"| {label} | {min(wall[name]):.2f} s | {statistics.median(wall[name]):.2f} s "
            f"| {min(cpu[name]):.2f} s |"
        )
    ratio = min(wall["ours"]) / min(wall["git-cliff"])
    cpu_ratio = min(cpu["ours"]) / min(cpu["git-cliff"])
    verdict = "met" if ratio <= 2 else "NOT met"
    print(
        f"\nrelease notes / git-cliff, best wall times: {ratio:.1f}x (target <= 2x: {verdict}); "
        f"CPU: {cpu_ratio:.1f}x"
    )
    for name in ("help", "check", "help, defaults", "check, defaults"):
        verdict = "met" if min(wall[name]) <= 0.8 else "NOT met"
        print(f"manage.py {name}: best {min(wall[name]):.2f} s (target <= 0.8 s: {verdict})")
    floor = min(wall["django alone"]) / min(wall["git-cliff"])
    print(f"Django alone / git-cliff: {floor:.1f}x (the floor of any Django command)")


if __name__ == "__main__":
    main()
