"""How long the eval of 60 questions takes with the offline model (target: at most 10 s).

    uv run python bench/eval.py [--set evals/guide.jsonl] [--rounds 3]

Starts a throwaway PostgreSQL cluster, ingests the user guide (``docs/``, as ``make run``
does), then runs the question set through ``manage.py eval``: first as a new process, end to
end (Python and Django starting, the first search loading its vectors, 60 answers, the run
stored), then ``--rounds`` times in this process. Prints the wall time of each, the cases'
summed latency with p50 and p95, tokens, and what passed; and the machine and its load.
"""

import argparse
import io
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_SECONDS = 10.0


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({model or platform.machine()}), Python "
        f"{platform.python_version()}; load average {load}"
    )


def run(*, cases_file: str, rounds: int) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("ingest_docs", str(ROOT / "docs"), "--source", "guide", stdout=io.StringIO())

    print(f"Machine: {machine()}")
    print()
    print(
        "| run | cases | passed | hit@5 | wall time | summed latency (p50 / p95) | tokens in/out |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")

    last: dict = {}

    def row(label: str, wall: float, report: dict) -> None:
        last.update(report)
        totals = report["totals"]
        print(
            f"| {label} | {totals['cases']} | {totals['passed']} | "
            f"{totals['hits']}/{totals['gold_cases']} | {wall:.2f} s | "
            f"{totals['latency_ms'] / 1000:.2f} s ({totals['latency_p50_ms']} / "
            f"{totals['latency_p95_ms']} ms) | {totals['input_tokens']:,} / "
            f"{totals['output_tokens']:,} |"
        )

    walls = []
    with tempfile.TemporaryDirectory() as scratch:
        report_path = Path(scratch) / "report.json"
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "manage.py"),
                "eval",
                cases_file,
                "--json",
                str(report_path),
            ],
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        wall = time.perf_counter() - started
        walls.append(wall)
        row("`manage.py eval`, a new process", wall, json.loads(report_path.read_text()))
        for number in range(1, rounds + 1):
            out = io.StringIO()
            started = time.perf_counter()
            call_command("eval", cases_file, "--format", "json", stdout=out)
            wall = time.perf_counter() - started
            walls.append(wall)
            row(f"in this process, round {number}", wall, json.loads(out.getvalue()))
    failing = [case["key"] for case in last["cases"] if not case["passed"]]
    print()
    print(f"Failing cases: {', '.join(failing) or 'none'}")
    worst = max(walls)
    verdict = "meets" if worst <= TARGET_SECONDS else "MISSES"
    print(f"Slowest: {worst:.2f} s, {verdict} the target of {TARGET_SECONDS:.0f} s.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="evals/guide.jsonl", help="the question set")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs in this process")
    arguments = parser.parse_args()

    os.environ["DJANGO_SETTINGS_MODULE"] = "chatbot.settings"
    os.environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(64)
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["CHATBOT_MODEL"] = "offline"

    from chatbot import embedded_postgres

    root = Path(tempfile.mkdtemp(prefix="chatbot-bench-eval-"))
    try:
        with embedded_postgres.running(
            data_dir=root / "data", socket_dir=root / "run", durable=False
        ) as cluster:
            cluster.create_database(name="bench_eval")
            os.environ["DATABASE_URL"] = cluster.url(dbname="bench_eval")
            run(cases_file=arguments.set, rounds=arguments.rounds)
            from django.db import connections

            for connection in connections.all():
                connection.close()
                if getattr(connection, "pool", None) is not None:
                    connection.close_pool()  # type: ignore[attr-defined]
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
