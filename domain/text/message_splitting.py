"""Split long text into pieces that fit a message limit, without silently losing any of it.

Slack truncates or rejects text over its limits (40,000 characters per message, 3,000 per
section block), so long answers and release notes are sent in pieces. Pieces break at
paragraphs, then lines, then words; a code fence cut in two is closed and reopened so each
piece still renders.
"""

FENCE = "```"


def split(*, text: str, limit: int) -> list[str]:
    if limit < 20:
        raise ValueError("limit must leave room for text and code fences")
    pieces: list[str] = []
    remaining = text.strip()
    while len(remaining) > limit:
        budget = limit - len(FENCE) - 1  # room to close a fence cut in two
        cut = _best_cut(remaining, budget)
        head, remaining = remaining[:cut].rstrip(), remaining[cut:].lstrip("\n ")
        if head.count(FENCE) % 2 == 1:
            head += "\n" + FENCE
            remaining = FENCE + "\n" + remaining
        pieces.append(head)
    if remaining:
        pieces.append(remaining)
    return pieces


def _best_cut(text: str, budget: int) -> int:
    window = text[:budget]
    for separator in ("\n\n", "\n", " "):
        position = window.rfind(separator)
        if position > budget // 2:
            return position
    return budget
