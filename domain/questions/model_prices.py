"""Model prices for the dashboard's cost estimate, as ``CHATBOT_MODEL_PRICES`` writes them.

Pure (no models), so settings can read them at start-up and a mistake stops the server with
one line.
"""

from decimal import Decimal, InvalidOperation


def parse(text: str) -> dict[str, tuple[Decimal, Decimal]]:
    """``model=INPUT/OUTPUT`` pairs, comma-separated, in dollars per million tokens, e.g.
    ``openai:gpt-5-mini=0.25/2``. Raises ValueError naming the pair that is not of that shape."""
    prices: dict[str, tuple[Decimal, Decimal]] = {}
    for pair in filter(None, (part.strip() for part in text.split(","))):
        model, _, price = pair.rpartition("=")
        per_input, _, per_output = price.partition("/")
        try:
            parsed = (Decimal(per_input), Decimal(per_output))
        except InvalidOperation:
            parsed = None
        if (
            not model.strip()
            or parsed is None
            or min(parsed) < 0
            or not all(p.is_finite() for p in parsed)
        ):
            raise ValueError(f"{pair!r} is not MODEL=INPUT/OUTPUT (dollars per million tokens)")
        prices[model.strip()] = parsed
    return prices
