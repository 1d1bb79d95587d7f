"""Nothing the bot relays from documents or models can ping a channel, a group or a person."""

import pytest

from domain.text import slack_mentions

J = slack_mentions.WORD_JOINER


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Tell <!channel> now", f"Tell @{J}channel now"),
        ("<!here> and <!everyone>", f"@{J}here and @{J}everyone"),
        ("<!here|here>", f"@{J}here"),
        ("ask <@U123ABC>", f"ask @{J}U123ABC"),
        ("ask <@U123ABC|bob>", f"ask @{J}bob"),
        ("the <!subteam^S0614TZR7|@oncall> team", f"the @{J}oncall team"),
        ("the <!subteam^S0614TZR7> team", f"the @{J}subteam team"),
        ("in <#C024BE7LR|general>", f"in #{J}general"),
        ("type @here or @Channel", f"type @{J}here or @{J}Channel"),
        ("mail ops@heredoc.example", "mail ops@heredoc.example"),
        ("see <https://docs.example.com|the docs> and a < b > c", None),
    ],
)
def test_mentions_read_the_same_and_ping_nobody(text, shown):
    assert slack_mentions.neutralise(text=text) == (text if shown is None else shown)


def test_a_partial_text_holds_back_an_end_that_may_become_a_mention():
    assert slack_mentions.neutralise_partial(text="Run it, then <!chan") == "Run it, then "
    assert slack_mentions.neutralise_partial(text="Ping @he") == "Ping "
    assert slack_mentions.neutralise_partial(text="a <!here> b") == f"a @{J}here b"
