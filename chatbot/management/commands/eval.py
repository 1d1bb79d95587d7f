"""``manage.py eval SET.json``: a question set through the current answer pipeline, scored.

Prints a table (or JSON) of each case's retrieval hit@k, required facts (or the grading
model's score), coverage, latency and tokens, with totals; stores the run for the admin and
for ``--compare`` later. The question set format is in ``domain/evals/cases.py`` and
docs/admin.md, "Evals".
"""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from application.answering import agent as answer_agent
from application.evals import running
from chatbot import eval_report, units_of_work


class Command(BaseCommand):
    help = (
        "Run a question set (a JSON or JSON lines file, or --from-admin) through the answer "
        "pipeline and report hit@k, facts, coverage, latency and tokens."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("cases_file", nargs="?", help="The question set, e.g. evals/guide.json")
        parser.add_argument(
            "--from-admin", action="store_true", help="Run the admin's active eval cases instead."
        )
        parser.add_argument(
            "--k",
            type=int,
            default=answer_agent.SEARCH_LIMIT,
            help="hit@k: a gold source among the first k passages found (default %(default)s).",
        )
        parser.add_argument(
            "--compare", type=int, metavar="RUN_ID", help="Show regressions against that run."
        )
        parser.add_argument(
            "--format", choices=["table", "json"], default="table", help="What goes to stdout."
        )
        parser.add_argument("--json", metavar="PATH", help="Also write the report as JSON here.")
        parser.add_argument(
            "--no-grade",
            action="store_true",
            help="With a model configured, check facts as substrings only (no grading model).",
        )
        parser.add_argument(
            "--grader-model", default="", help="The grading model (default: CHATBOT_MODEL)."
        )
        parser.add_argument(
            "--concurrency", type=int, default=1, help="Cases answered at once (default 1)."
        )
        parser.add_argument(
            "--fail-on-regression",
            action="store_true",
            help="Exit non-zero when a case that passed in the --compare run fails now.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        json_path = Path(options["json"]) if options["json"] else None
        if json_path is not None and not json_path.parent.is_dir():
            raise CommandError(f"--json: no such directory {json_path.parent}")

        async def evaluate() -> running.Report:
            return await running.evaluate(
                cases_file=options["cases_file"],
                from_admin=options["from_admin"],
                k=options["k"],
                compare_to=options["compare"],
                grade=not options["no_grade"],
                grader_model=options["grader_model"],
                concurrency=options["concurrency"],
            )

        try:
            report = units_of_work.run(evaluate, log_id="eval")
        except running.EvalError as error:
            raise CommandError(str(error)) from None
        data = eval_report.as_json(report)
        if json_path is not None:
            json_path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        if options["format"] == "json":
            self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
        else:
            self.stdout.write(eval_report.table(report), ending="")
        compared = report.comparison
        if options["fail_on_regression"] and compared is not None and compared.regressions:
            raise CommandError(f"{len(compared.regressions)} regression(s)")
