"""Text the bot did not write (documents, model answers, commits) must not ping anyone in Slack.

Slack notifies people for ``<!channel>``, ``<!here>``, ``<!everyone>``, ``<@U…>`` (a person),
``<!subteam^…>`` (a user group), and links ``<#C…>``; with some parsing modes the plain words
``@channel``, ``@here`` and ``@everyone`` do the same. A page that documents those commands, or a
model that quotes one, would otherwise page the whole channel. Each becomes the text a reader
would see (``@channel``, ``@bob``, ``#general``) with an invisible word joiner after the ``@`` or
``#``, so it reads the same and matches no mention syntax.
"""

import re

WORD_JOINER = "\u2060"

# <!channel>, <!here|here>, <@U123>, <@U123|bob>, <!subteam^S1|@team>, <#C1|general>, ...
_SPECIAL = re.compile(r"<(?P<kind>[!@#])(?P<body>[^<>|]*)(?:\|(?P<label>[^<>]*))?>")
_BROADCAST_WORD = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)
# The end of a partial text that may yet become a mention: "<", "<!chan", "@he".
_UNFINISHED = re.compile(r"(?:<(?:[!@#][^<>]*)?|@\w*)$")


def neutralise(*, text: str) -> str:
    """``text`` as it reads, with no mention, broadcast or channel link left in it."""
    text = _SPECIAL.sub(_readable, text)
    return _BROADCAST_WORD.sub("@" + WORD_JOINER, text)


def neutralise_partial(*, text: str) -> str:
    """:func:`neutralise` for the start of a text still being written: an end that may grow
    into a mention (``<!chan``) is held back until the rest arrives."""
    text = neutralise(text=text)
    unfinished = _UNFINISHED.search(text)
    return text[: unfinished.start()] if unfinished else text


def _readable(match: re.Match[str]) -> str:
    kind, body, label = match["kind"], match["body"], match["label"]
    if kind == "!":
        # <!here>, <!subteam^S1|@team>, <!date^…|fallback>: the label, else the command's name.
        shown = label or body.split("^", 1)[0]
        if shown.startswith("@"):
            shown = shown[1:]
        return "@" + WORD_JOINER + shown
    shown = (label or body).lstrip("@#")
    return kind + WORD_JOINER + shown
