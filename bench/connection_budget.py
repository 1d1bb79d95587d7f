"""Connection budget: N Slack questions in flight against a fake model that takes 2 s a request.

    uv run python bench/connection_budget.py [--questions 200]

Runs tests/slack/test_connection_budget.py (fake Slack and OpenAI-compatible servers on
127.0.0.1, a throwaway PostgreSQL cluster, one procrastinate worker with concurrency N) and
prints its table: the peak number of PostgreSQL connections seen in pg_stat_activity while all
questions wait on the model, next to the budget (Django's pool + the worker's own).
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=200)
    args = parser.parse_args()
    env = {**os.environ, "CHATBOT_BENCH_QUESTIONS": str(args.questions)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/slack/test_connection_budget.py",
            "-q",
            "-s",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    table = [line for line in result.stdout.splitlines() if line.startswith("|")]
    print("\n".join(table) if table else result.stdout[-3000:])
    print("PASS" if result.returncode == 0 else f"FAIL\n{result.stdout[-3000:]}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
