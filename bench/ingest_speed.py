"""The full ingest of Django's docs alone, with the CPU time of each process and a timeline.

    uv run python bench/ingest_speed.py

Uses the corpus and the database set-up of bench/search_quality.py (a throwaway PostgreSQL
cluster, or the server DATABASE_URL names: it gets written to). Prints the wall time; the CPU
seconds of this process (reading, hashing, the ORM), of the parsing worker processes, and of
PostgreSQL's server processes (from /proc, so Linux only); and when the workers were ready,
when the parsing ended and when the last group was stored. On a machine shared with other work
the CPU figures are the steady ones: the wall time is their sum over the cores left free.
"""

import asyncio
import contextlib
import glob
import os
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))
sys.path.insert(0, str(BENCH_DIR))

import search_quality  # noqa: E402


def postgres_cpu() -> float:
    """CPU seconds of the PostgreSQL server processes (those reaped included)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('data_directory')")
        [data_dir] = cursor.fetchone()
    postmaster = int((Path(data_dir) / "postmaster.pid").read_text().split()[0])
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, parent = int(stat.split("/")[2]), int(fields[1])
        if postmaster in (pid, parent):
            total += (int(fields[11]) + int(fields[12])) / ticks
        if pid == postmaster:
            total += (int(fields[13]) + int(fields[14])) / ticks
    return total


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="chatbot-bench-docs-"))
    docs = work / "docs"
    shutil.copytree(search_quality.corpus_dir(), docs)
    try:
        with search_quality.database():
            search_quality.setup_django()
            from django.core.management import call_command

            from application.knowledge import reading

            call_command("migrate", verbosity=0)
            search_quality.reset_source()
            started = time.perf_counter()
            parsed: list[float] = []
            parsers = reading.parsers

            @contextlib.asynccontextmanager
            async def timed_parsers(
                *, changed: int
            ) -> AsyncIterator[Callable[[reading.Read], Awaitable[reading.Prepared]]]:
                async with parsers(changed=changed) as parse:

                    def submit(read: reading.Read) -> Awaitable[reading.Prepared]:
                        future = asyncio.ensure_future(parse(read))
                        future.add_done_callback(
                            lambda _: parsed.append(time.perf_counter() - started)
                        )
                        return future

                    yield submit

            reading.parsers = timed_parsers
            before, postgres_before = os.times(), postgres_cpu()
            seconds, summary = search_quality.timed_ingest(docs, "--prune", "--move")
            after, postgres_after = os.times(), postgres_cpu()
            reading.parsers = parsers
            from django.db import connections

            connections.close_all()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    own = after.user + after.system - before.user - before.system
    workers = (
        after.children_user + after.children_system - before.children_user - before.children_system
    )
    postgres = postgres_after - postgres_before
    parsed.sort()
    print(f"Full ingest: {seconds:.1f} s ({summary})")
    print(
        f"CPU: ingest command {own:.1f} s, parsing workers {workers:.1f} s, "
        f"PostgreSQL {postgres:.1f} s; total {own + workers + postgres:.1f} s"
    )
    if parsed:
        print(
            f"Timeline: first file parsed at {parsed[0]:.1f} s (the workers' start-up), "
            f"half at {parsed[len(parsed) // 2]:.1f} s, the last at {parsed[-1]:.1f} s; "
            f"the run ended at {seconds:.1f} s"
        )
    print(f"Machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
