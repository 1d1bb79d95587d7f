"""Search quality and speed on a real corpus: Django's own documentation (679 RST files).

    uv run python bench/search_quality.py [--verbose]

Downloads Django's source distribution from PyPI (checking its sha256) into bench/.cache on
first use and ingests a copy of its docs/ into a throwaway PostgreSQL cluster (or the server
DATABASE_URL names: it gets written to). Times the full ingest, an unchanged re-ingest, and
one changed file (ingested alone, then searched for its new sentence).
Then asks the questions of bench/search_questions.json (the project's own set, used while
tuning) and bench/search_questions_heldout.json (42 more, written before the fusion was tuned;
its figures were printed beside the own set's while tuning, so it is a second sample rather
than a blind test), each
with the doc files that answer it, and prints MRR@10, Recall@5 and Recall@10 next to a BM25
baseline (bm25s, English stop words and Snowball stemmer) over the same chunks, plus search
latency. A hit is a result from one of the question's gold files.
"""

import argparse
import asyncio
import hashlib
import io
import json
import os
import secrets
import shutil
import statistics
import sys
import tarfile
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
CACHE = BENCH_DIR / ".cache"
DJANGO_VERSION = "6.1.3"
PYPI_PROJECT = "https://pypi.org/simple/django/"
BASE_URL = "https://docs.djangoproject.com/en/6.1/"
SOURCE = "django-docs"
PASSES = 5  # timed passes over the questions, after one warm-up pass

sys.path.insert(0, str(ROOT))


def corpus_dir() -> Path:
    docs = CACHE / f"django-{DJANGO_VERSION}" / "docs"
    if docs.is_dir():
        return docs
    CACHE.mkdir(parents=True, exist_ok=True)
    archive = CACHE / f"django-{DJANGO_VERSION}.tar.gz"
    if not archive.exists():
        download_sdist(archive)
    prefix = f"django-{DJANGO_VERSION}/docs/"
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(prefix)]
        tar.extractall(CACHE, members=members, filter="data")
    return docs


def download_sdist(archive: Path) -> None:
    """Fetch Django's source distribution from PyPI, checking the sha256 the index publishes.

    Straight from the index's JSON simple API (PEP 691, what pip and uv read) rather than
    ``pip download``: under ``uv run`` the interpreter on PATH is the project's virtualenv,
    which has no pip.
    """
    request = urllib.request.Request(
        PYPI_PROJECT, headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        page_url = response.url
        listing = json.load(response)
    [sdist] = [f for f in listing["files"] if f["filename"].lower() == archive.name]
    url = urllib.parse.urljoin(page_url, sdist["url"])
    expected = sdist["hashes"]["sha256"]
    print(f"Downloading {url}", file=sys.stderr)
    partial = archive.with_name(archive.name + ".part")
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=60) as response, partial.open("wb") as out:
        while block := response.read(1 << 16):
            digest.update(block)
            out.write(block)
    if digest.hexdigest() != expected:
        partial.unlink()
        raise SystemExit(f"{url}: sha256 {digest.hexdigest()}, but the index says {expected}")
    partial.rename(archive)


@contextmanager
def database() -> Iterator[None]:
    if os.environ.get("DATABASE_URL"):
        yield
        return
    from chatbot import embedded_postgres

    root = Path(tempfile.mkdtemp(prefix="chatbot-bench-"))
    try:
        with embedded_postgres.running(data_dir=root / "data", socket_dir=root / "run") as cluster:
            cluster.create_database(name="bench")
            os.environ["DATABASE_URL"] = cluster.url(dbname="bench")
            yield
    finally:
        shutil.rmtree(root, ignore_errors=True)


def setup_django() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "chatbot.settings"
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(64))
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def timed_ingest(docs: Path, *extra: str) -> tuple[float, str]:
    from django.core.management import call_command

    out = io.StringIO()
    started = time.perf_counter()
    call_command(
        "ingest_docs", str(docs), "--source", SOURCE, "--base-url", BASE_URL, *extra, stdout=out
    )
    return time.perf_counter() - started, out.getvalue().strip()


CHANGED_FILE = "topics/db/managers.txt"
NEW_SENTENCE = "Zanzibar quokkas recommend a custom manager for every marmalade model."


def timed_change(docs: Path) -> tuple[float, float, bool]:
    """One file edited and ingested alone: the ingest's time, then the first search's, and
    whether that search found the new sentence."""
    from chatbot import units_of_work
    from domain.knowledge import search

    path = docs / CHANGED_FILE
    original = path.read_text()
    path.write_text(original + "\n\n" + NEW_SENTENCE + "\n")
    try:
        seconds, _summary = timed_ingest(path)

        async def find() -> bool:
            async with units_of_work.unit_of_work(log_id="bench"):
                results = await search.search(query="zanzibar quokkas marmalade", limit=3)
            return any(NEW_SENTENCE in r.text for r in results)

        started = time.perf_counter()
        found = asyncio.run(find())
        return seconds, time.perf_counter() - started, found
    finally:
        path.write_text(original)
        timed_ingest(path)


def settle() -> None:
    """Measure latency in the steady state, not while autovacuum digests the fresh ingest."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM ANALYZE data_chunk, data_document, knowledge_postings, knowledge_term_stats"
        )
    connection.close()


def reset_source() -> None:
    from data import models

    models.DocumentationSource.objects.filter(name=SOURCE).delete()


async def our_rankings(questions: list[dict]) -> tuple[list[list[str]], list[float]]:
    from chatbot import units_of_work
    from domain.knowledge import search

    rankings: list[list[str]] = []
    latencies: list[float] = []
    async with units_of_work.unit_of_work(log_id="bench"):
        for q in questions:  # warm-up pass, which also records the rankings
            rankings.append([r.path for r in await search.search(query=q["question"], limit=10)])
        for _ in range(PASSES):
            for q in questions:
                started = time.perf_counter()
                await search.search(query=q["question"], limit=10)
                latencies.append((time.perf_counter() - started) * 1000)
    return rankings, latencies


def bm25_rankings(questions: list[dict]) -> tuple[list[list[str]], list[float]]:
    import bm25s
    import Stemmer

    from data import models

    rows = list(
        models.Chunk.objects.filter(document__source__name=SOURCE)
        .order_by("id")
        .values_list("document__path", "heading_path", "text")
    )
    paths = [path for path, _heading, _text in rows]
    stemmer = Stemmer.Stemmer("english")
    corpus = bm25s.tokenize(
        [f"{heading}\n{text}" for _path, heading, text in rows],
        stopwords="en",
        stemmer=stemmer,
        show_progress=False,
    )
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    rankings, latencies = [], []
    for q in questions:
        started = time.perf_counter()
        tokens = bm25s.tokenize(q["question"], stopwords="en", stemmer=stemmer, show_progress=False)
        found, _scores = retriever.retrieve(tokens, k=10, show_progress=False)
        latencies.append((time.perf_counter() - started) * 1000)
        rankings.append([paths[i] for i in found[0]])
    return rankings, latencies


def load_questions() -> dict[str, list[dict]]:
    return {
        "own": json.loads((BENCH_DIR / "search_questions.json").read_text()),
        "held-out": json.loads((BENCH_DIR / "search_questions_heldout.json").read_text()),
    }


def recall_at(rankings: list[list[str]], questions: list[dict], k: int) -> float:
    hits = sum(bool(set(r[:k]) & set(q["gold"])) for r, q in zip(rankings, questions, strict=True))
    return hits / len(questions)


def mrr_at(rankings: list[list[str]], questions: list[dict], k: int) -> float:
    total = 0.0
    for ranking, q in zip(rankings, questions, strict=True):
        for rank, path in enumerate(ranking[:k], start=1):
            if path in q["gold"]:
                total += 1 / rank
                break
    return total / len(questions)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--verbose", action="store_true", help="Show each question's ranks.")
    parser.add_argument(
        "--search-only",
        action="store_true",
        help="With DATABASE_URL: reuse the corpus ingested by an earlier run (for tuning).",
    )
    args = parser.parse_args()
    sets = load_questions()
    questions = [q for qs in sets.values() for q in qs]
    pristine = corpus_dir()
    work = Path(tempfile.mkdtemp(prefix="chatbot-bench-docs-"))
    docs = work / "docs"
    shutil.copytree(pristine, docs)
    try:
        with database():
            setup_django()
            from django.core.management import call_command

            from data import models

            call_command("migrate", verbosity=0)
            timings: dict[str, str] = {}
            if not args.search_only:
                reset_source()
                seconds, summary = timed_ingest(docs, "--prune", "--move")
                timings["Full corpus"] = f"{seconds:.1f} s ({summary})"
                seconds, summary = timed_ingest(docs, "--prune")
                timings["Again, nothing changed"] = f"{seconds:.1f} s ({summary})"
                ingest_s, search_s, found = timed_change(docs)
                timings["One changed file, ingested alone, then searched"] = (
                    f"{ingest_s:.2f} s + first search {search_s * 1000:.0f} ms"
                    f" (new sentence found: {'yes' if found else 'NO'})"
                )
            documents = models.Document.objects.filter(source__name=SOURCE).count()
            chunks = models.Chunk.objects.filter(document__source__name=SOURCE).count()
            settle()
            ours, our_latencies = asyncio.run(our_rankings(questions))
            bm25, bm25_latencies = bm25_rankings(questions)
            from django.db import connections

            connections.close_all()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    if args.verbose:
        for q, mine, theirs in zip(questions, ours, bm25, strict=True):
            rank = next((i for i, p in enumerate(mine, 1) if p in q["gold"]), None)
            base = next((i for i, p in enumerate(theirs, 1) if p in q["gold"]), None)
            print(f"ours={rank!s:>4} bm25={base!s:>4}  {q['question']}  -> {mine[:3]}")
    cores = os.cpu_count()
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(f"Corpus: Django {DJANGO_VERSION} docs, {documents} documents, {chunks} chunks")
    print(f"Machine: {cores} cores, {memory_gib:.0f} GiB RAM, load {os.getloadavg()[0]:.1f}")
    print()
    print("| Questions | Method | MRR@10 | Recall@5 | Recall@10 |")
    print("| --- | --- | --- | --- | --- |")
    start = 0
    for set_name, qs in sets.items():
        end = start + len(qs)
        for name, rankings in (
            ("product (domain/knowledge/search.py)", ours),
            ("BM25 baseline (bm25s)", bm25),
        ):
            part = rankings[start:end]
            print(
                f"| {set_name} ({len(qs)}) | {name} | {mrr_at(part, qs, 10):.3f} "
                f"| {recall_at(part, qs, 5):.3f} | {recall_at(part, qs, 10):.3f} |"
            )
        start = end
    print()
    print(f"Latency over {len(questions)} questions x {PASSES} passes (limit 10):")
    for name, latencies in (("product", our_latencies), ("bm25s, in memory", bm25_latencies)):
        print(
            f"- {name}: p50 {statistics.median(latencies):.1f} ms, "
            f"p95 {percentile(latencies, 0.95):.1f} ms"
        )
    print()
    for label, value in timings.items():
        print(f"{label}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
