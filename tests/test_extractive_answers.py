"""The offline model's answers quote the documentation as it reads: sentences, and code
blocks, tables and list items whole."""

from domain.knowledge import extractive

ROLLBACK = """To roll back a deploy, run the rollback target. Deploys are logged.

```sh
make rollback ENV=production
git tag -d broken
```

After the rollback, check:

- the dashboard is green
- the error rate is back to normal

| step | owner |
| --- | --- |
| rollback | on-call |"""


def _answer(question: str, *, max_sentences: int = 3) -> str:
    passage = extractive.Passage(
        chunk_id=1, title="Deploying", heading="Deploying > Rollbacks", text=ROLLBACK
    )
    return extractive.compose(
        question=question, passages=[passage], max_sentences=max_sentences
    ).text


def test_a_code_block_is_quoted_whole_with_its_fence_and_lines():
    text = _answer("how do I roll back a production deploy with make rollback?")

    assert "```sh\nmake rollback ENV=production\ngit tag -d broken\n```" in text
    assert "> To roll back a deploy, run the rollback target." in text
    assert "Deploys are logged" not in text  # a sentence that does not help is left out


def test_list_items_stay_items_and_a_table_stays_a_table():
    text = _answer(
        "after the rollback, who is the owner and is the dashboard green?", max_sentences=6
    )

    assert "> - the dashboard is green" in text
    assert "| step | owner |\n| --- | --- |\n| rollback | on-call |" in text
    # The attribution is not read as one more row of the table.
    assert "| rollback | on-call |\n\n— _Deploying: Rollbacks_ [1]" in text


def test_prose_sentences_are_joined_into_one_quote():
    passage = extractive.Passage(
        chunk_id=2,
        title="Expenses",
        heading="Expenses > Travel",
        text="Travel expenses are approved by your manager.\nApproval takes a week.",
    )

    answer = extractive.compose(question="who approves travel expenses?", passages=[passage])

    assert answer.text.endswith(
        "> Travel expenses are approved by your manager. Approval takes a week.\n"
        "— _Expenses: Travel_ [1]"
    )
