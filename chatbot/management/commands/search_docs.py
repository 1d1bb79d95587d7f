"""``manage.py search_docs "query" [--limit N] [--json]``: what the answer agent would find."""

import argparse
import dataclasses
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from chatbot import units_of_work
from domain.knowledge import search


class Command(BaseCommand):
    help = "Search the ingested documentation and print the best passages."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("query")
        parser.add_argument(
            "--limit",
            type=_limit,
            default=5,
            help=f"At most this many results (1 to {search.MAX_LIMIT}).",
        )
        parser.add_argument("--json", action="store_true", help="Print a JSON list.")

    def handle(self, *args: Any, **options: Any) -> None:
        query: str = options["query"]
        limit: int = options["limit"]
        results = units_of_work.run(
            lambda: search.search(query=query, limit=limit), log_id="search_docs"
        )
        if options["json"]:
            self.stdout.write(json.dumps([_as_json(r) for r in results], ensure_ascii=False))
            return
        if not results:
            self.stdout.write("No results.")
            return
        for rank, result in enumerate(results, start=1):
            self.stdout.write(
                f"{rank}. {result.heading_path or result.title}  ({result.score:.3f})"
            )
            self.stdout.write(f"   {result.url or result.path}")
            self.stdout.write(f"   {result.snippet}")


def _limit(value: str) -> int:
    """Refuse a limit search would silently change (it clamps to 1..MAX_LIMIT)."""
    try:
        limit = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if not 1 <= limit <= search.MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"must be 1 to {search.MAX_LIMIT}, not {limit}")
    return limit


def _as_json(result: search.SearchResult) -> dict[str, Any]:
    fields = dataclasses.asdict(result)
    fields.pop("text")
    fields["heading"] = fields.pop("heading_path")
    return fields
