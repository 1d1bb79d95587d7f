"""Benchmark: release notes for a 10,000-commit synthetic repository, offline and with a model.

    uv run python bench/release_notes.py [--commits 10000] [--concurrency 8] [--batch-size 25]

The repository is generated with ``git fast-import`` (a second or two) and cached under
``bench/.cache``. It looks like a busy non-conventional product repository: squash-merged
pull requests with "(#123)" suffixes, merge commits of multi-commit pull requests, a share of
conventional commits, dependency bumps, docs and test-only changes, co-authors, release
bookkeeping, and some vague subjects ("wip") that only a model can explain.

The model run uses a pydantic-ai FunctionModel that sleeps 1 s per call, so it measures our
orchestration (batches in parallel up to the concurrency limit), not a provider. "Wall time" is
the whole use case, ``generating.generate`` from the first git call to the stored notes, in
a process that has started Django and imported the code; building the fake models is not
timed. Without DATABASE_URL a throwaway PostgreSQL cluster is started for the run.
"""

import argparse
import asyncio
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot.settings")
os.environ.setdefault("DJANGO_DEBUG", "true")
os.environ.setdefault("LOG_LEVEL", "ERROR")

PEOPLE = [(f"Dev {n:02d}", f"dev{n:02d}@example.com") for n in range(40)]
AREAS = ["api", "billing", "search", "auth", "ui", "exports", "scheduler", "storage", "cli"]
THINGS = [
    "pagination", "retry logic", "CSV export", "dark mode", "rate limiter", "audit log",
    "webhook delivery", "password reset", "bulk import", "timezone handling", "cache keys",
    "error messages", "session expiry", "upload progress", "search ranking", "invoice totals",
]  # fmt: skip
PLAIN = [
    "Fix {thing} in {area}", "Add {thing} to {area}", "Improve {thing} for {area}",
    "Remove unused {thing} from {area}", "Refactor {area} {thing}", "Handle empty {thing}",
    "Support {thing} in {area}", "Optimize {thing} queries", "Update {thing} defaults",
    "Prevent duplicate {thing} in {area}", "Rename {area} {thing} settings",
]  # fmt: skip
CONVENTIONAL = [
    "feat({area}): add {thing}", "fix({area}): correct {thing}", "perf({area}): cache {thing}",
    "refactor({area}): simplify {thing}", "docs: describe {thing}", "chore: tidy {area}",
]  # fmt: skip
VAGUE = ["wip", "misc", "tmp", "more changes", "stuff", "cleanup", "fixes", "updates"]


def _data(text: str) -> bytes:
    raw = text.encode()
    return b"data %d\n%s\n" % (len(raw), raw)


def _subject(rng: random.Random) -> tuple[str, str]:
    """A subject and the path it changes."""
    area, thing = rng.choice(AREAS), rng.choice(THINGS)
    roll = rng.random()
    path = f"src/{area}/{thing.replace(' ', '_')}.py"
    if roll < 0.10:
        return rng.choice(VAGUE), path
    if roll < 0.14:
        old, new = rng.randint(0, 9), rng.randint(10, 19)
        return f"Bump {thing.split()[0]}-lib from 1.{old}.0 to 1.{new}.0", "requirements.txt"
    if roll < 0.18:
        return f"Update docs for {thing}", f"docs/{area}.md"
    if roll < 0.21:
        return f"Add tests for {thing}", f"tests/test_{area}.py"
    if roll < 0.40:
        return rng.choice(CONVENTIONAL).format(area=area, thing=thing), path
    return rng.choice(PLAIN).format(area=area, thing=thing), path


def build_repo(path: Path, commits: int, seed: int = 7) -> None:
    """Exactly ``commits`` commits after the tag ``base``, written by git fast-import."""
    rng = random.Random(seed)
    stream = bytearray()
    mark = 0
    clock = 1_600_000_000

    def commit(
        branch: str, message: str, files: list[str], *, parent: int | None = None,
        merge: int | None = None,
    ) -> int:  # fmt: skip
        nonlocal mark, clock
        mark += 1
        clock += 60
        name, email = rng.choice(PEOPLE)
        stream.extend(f"commit refs/heads/{branch}\nmark :{mark}\n".encode())
        stream.extend(f"author {name} <{email}> {clock} +0000\n".encode())
        stream.extend(f"committer {name} <{email}> {clock} +0000\n".encode())
        stream.extend(_data(message))
        if parent is not None:
            stream.extend(f"from :{parent}\n".encode())
        if merge is not None:
            stream.extend(f"merge :{merge}\n".encode())
        for file in files:
            stream.extend(f"M 100644 inline {file}\n".encode())
            stream.extend(_data(f"{message}\n{mark}"))
        return mark

    base = commit("main", "Initial commit", ["README.md"])
    stream.extend(f"reset refs/tags/base\nfrom :{base}\n".encode())
    tip, made, pr = base, 0, 100
    while made < commits:
        pr += 1
        roll = rng.random()
        if roll < 0.06 and commits - made >= 3:
            # A pull request merged with a merge commit, its commits on a branch.
            branch = f"pr-{pr}"
            first = True
            head = tip
            for _ in range(2):
                subject, file = _subject(rng)
                head = commit(branch, subject, [file], parent=tip if first else None)
                first = False
            title, _ = _subject(rng)
            message = f"Merge pull request #{pr} from dev/{branch}\n\n{title}"
            tip = commit("main", message, [], merge=head)
            made += 3
            continue
        subject, file = _subject(rng)
        if roll < 0.08:
            subject, file = f"Release 1.{pr}.0", "VERSION"
        elif roll < 0.75 and subject not in VAGUE:
            subject += f" (#{pr})"
        body = ""
        if rng.random() < 0.05:
            name, email = rng.choice(PEOPLE)
            body = f"\n\nCo-authored-by: {name} <{email}>"
        tip = commit("main", subject + body, [file])
        made += 1
    stream.extend(b"done\n")
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "--quiet", "--initial-branch=main", str(path)], check=True)
    subprocess.run(
        ["git", "-C", str(path), "fast-import", "--quiet", "--done"],
        input=bytes(stream),
        check=True,
    )
    subprocess.run(["git", "-C", str(path), "checkout", "--quiet", "main"], check=True)


def cached_repo(commits: int) -> Path:
    path = BENCH_DIR / ".cache" / f"release-notes-{commits}"
    if not (path / ".git").exists():
        started = time.monotonic()
        tmp = path.with_suffix(".tmp")
        subprocess.run(["rm", "-rf", str(tmp)], check=True)
        build_repo(tmp, commits)
        tmp.rename(path)
        print(f"built {commits}-commit repository in {time.monotonic() - started:.1f} s")
    return path


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


async def _slow_model_run(repo: Path, concurrency: int, batch_size: int) -> Any:
    from django.conf import settings
    from django.utils import timezone
    from pydantic_ai.messages import ModelResponse, ToolCallPart, UserPromptPart
    from pydantic_ai.models.function import FunctionModel

    from application.release_notes import commit_classifier, generating, highlights_writer

    # What the model path adds: the settings below, batches and a 1 s wait per call.

    async def classifier(messages: list[Any], info: Any) -> Any:
        await asyncio.sleep(1)
        prompt: str = next(
            str(part.content)
            for message in messages
            for part in getattr(message, "parts", [])
            if isinstance(part, UserPromptPart)
        )
        ids = re.findall(r"^id: (\S+)$", prompt, re.MULTILINE)
        verdicts = [{"id": i, "group": "CHANGES", "summary": "Tidy up internals"} for i in ids]
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, {"commits": verdicts})])

    async def writer(messages: list[Any], info: Any) -> Any:
        await asyncio.sleep(1)
        paragraph = "A release with many fixes and features across the product."
        return ModelResponse(
            parts=[ToolCallPart(info.output_tools[0].name, {"paragraph": paragraph})]
        )

    # "test" names pydantic-ai's TestModel; both agents are overridden with sleeping models.
    settings.CHATBOT_MODEL = settings.CHATBOT_CLASSIFIER_MODEL = "test"
    settings.CHATBOT_RELEASE_NOTES_CONCURRENCY = concurrency
    settings.CHATBOT_RELEASE_NOTES_BATCH_SIZE = batch_size
    # The fake models are the bench's scaffolding, not the product: the first FunctionModel
    # costs ~0.6 s of pydantic-ai imports, so they are built before the clock starts.
    classifier_model, writer_model = FunctionModel(classifier), FunctionModel(writer)
    with (
        commit_classifier.agent.override(model=classifier_model),
        highlights_writer.agent.override(model=writer_model),
    ):
        started = time.monotonic()
        result = await generating.generate(
            repo=repo, from_ref="base", version="bench", now=timezone.now()
        )
        return result, time.monotonic() - started


async def _offline_run(repo: Path) -> tuple[Any, float]:
    from django.utils import timezone

    from application.release_notes import generating

    started = time.monotonic()
    result = await generating.generate(
        repo=repo, from_ref="base", version="bench", offline=True, now=timezone.now()
    )
    return result, time.monotonic() - started


def _row(label: str, result: Any, wall: float) -> str:
    counts = result.data["counts"]
    accounted = counts["listed"] + counts["merged"] + counts["skipped"]
    other = counts["groups"].get("OTHER", 0)
    return (
        f"| {label} | {result.commit_count:,} | {wall:.2f} s | {result.commit_count / wall:,.0f} "
        f"| {100 * accounted / result.commit_count:.0f}% "
        f"| {100 * other / max(counts['listed'], 1):.1f}% | {result.model_calls} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=25)
    args = parser.parse_args()
    repo = cached_repo(args.commits)
    with ExitStack() as stack:
        _database(stack)
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        # Imports are not what we measure.
        import application.release_notes
        import application.release_notes.improving  # noqa: F401

        started = time.monotonic()
        command = [sys.executable, "manage.py", "release_notes", "--repo", str(repo)]
        command += ["--from", "base", "--offline", "--output", os.devnull]
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        cli_wall = time.monotonic() - started

        offline, offline_wall = asyncio.run(_offline_run(repo))
        peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        modelled, model_wall = asyncio.run(_slow_model_run(repo, args.concurrency, args.batch_size))

    print(f"\nrepository: {args.commits:,} commits; {offline.summary}")
    print("\n| run | commits | wall time | commits/s | accounted for | in Other | model calls |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(_row("offline", offline, offline_wall))
    print(_row("1 s model", modelled, model_wall))
    print(f"\npeak memory of this process after the offline run: {peak_rss_mib:.0f} MiB")
    print(
        f"`manage.py release_notes --offline` as a new process (Python and Django start-up, "
        f"imports, database): {cli_wall:.2f} s"
    )
    ideal = modelled.batches / args.concurrency
    over = 100 * (model_wall / ideal - 1)
    print(
        f"\nmodel run: {modelled.batches} batches of <= {args.batch_size}, concurrency "
        f"{args.concurrency}, the Highlights call alongside: target (batches / concurrency) x "
        f"1 s = {ideal:.2f} s, +20% = {1.2 * ideal:.2f} s; whole run (reading, classifying, "
        f"model calls, rendering, storing) {model_wall:.2f} s ({over:+.1f}%), "
        f"of which waiting for models {modelled.model_duration_s:.2f} s"
    )


if __name__ == "__main__":
    main()
