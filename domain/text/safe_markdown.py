"""Markdown to HTML for pages that show stored text (answers, release notes) to admins.

The text comes from a model and from commit messages, so it is untrusted: raw HTML in it is
escaped rather than passed through, and markdown-it's link validation drops ``javascript:``
and similar URLs. The result is safe to mark as safe in a template.

markdown-it is imported and set up on the first page that renders: the admin imports this
module whenever Django starts, ``manage.py help`` included.
"""

import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt


@functools.cache
def _renderer() -> "MarkdownIt":
    from markdown_it import MarkdownIt

    # "commonmark" with html=False: the same rendering everywhere, no raw HTML, tables added
    # because release notes and answers use them.
    # Images are off: a model-written answer must not make an admin's browser fetch a remote URL.
    return (
        MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").disable("image")
    )


def render_html(*, markdown: str) -> str:
    """Render Markdown to HTML that contains no HTML from the source text."""
    return _renderer().render(markdown)


_SLACK_LINK = re.compile(r"<(https?://[^|>\s]+)\|([^>]+)>")


def slack_links_to_markdown(*, text: str) -> str:
    """Turn Slack's ``<url|label>`` links into Markdown links, so either syntax renders."""
    return _SLACK_LINK.sub(lambda match: f"[{match.group(2)}]({match.group(1)})", text)
