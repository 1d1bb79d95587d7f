"""Where a request for a person goes, by the channel the question was asked in.

Pure (no models), so settings can read ``CHATBOT_ESCALATION_ROUTES`` with it at start-up and a
mistake stops the server with one line.
"""

import dataclasses


@dataclasses.dataclass(frozen=True, kw_only=True)
class Route:
    """Where requests from one Slack channel go: a channel, and a user group to mention."""

    channel_id: str
    mention: str = ""


def parse_routes(text: str) -> dict[str, Route]:
    """``C_FROM=C_TO`` or ``C_FROM=C_TO/S_GROUP`` pairs, comma-separated; ``*`` as the
    source is the default. Raises ValueError naming the pair that is not of that shape."""
    routes: dict[str, Route] = {}
    for pair in filter(None, (part.strip() for part in text.split(","))):
        source, _, target = pair.partition("=")
        channel_id, _, mention = target.strip().partition("/")
        if not source.strip() or not channel_id.strip():
            raise ValueError(f"{pair!r} is not CHANNEL=CHANNEL or CHANNEL=CHANNEL/USERGROUP")
        routes[source.strip()] = Route(channel_id=channel_id.strip(), mention=mention.strip())
    return routes


def route_for(*, channel_id: str, routes: dict[str, Route]) -> Route | None:
    """The route for a question asked in ``channel_id``: its own, else the default."""
    return routes.get(channel_id) or routes.get("*")
