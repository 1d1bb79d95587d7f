"""Each documentation format reads into titled sections of clean, quotable text."""

import re

from domain.knowledge import chunking, markup

MARKDOWN = """# Expenses

How we pay back what you spend for work.

## Travel

Book trains through the portal.

- Economy class for trips under 4 hours
- First class above that

### Hotels

| City | Nightly limit |
| --- | --- |
| Berlin | 150 EUR |

```python
limit = nightly_limit(city)
```

## Travel

A second section with the same heading.
"""

RST = """.. _expenses:

========
Expenses
========

How we pay back what you spend, see :doc:`the handbook </handbook/index>` and
:class:`~company.finance.Claim`.

Claims
======

Submit a claim with :djadmin:`submit_claim` within 30 days. :jira:`FIN-12` tracks it.

.. versionadded:: 2.1

    Claims can include photos of receipts.

.. code-block:: python

    Claim.objects.create(amount=12)

.. note::

    Receipts over 50 EUR need a scan.

.. company-widget:: budget
    :height: 3

    Remaining budget is shown in the portal.

Approval
--------

Your manager approves the claim.
"""

HTML = """<!doctype html>
<html><head><title>Expenses</title><script>track()</script></head>
<body>
<nav>Home | Docs</nav>
<h1>Expenses</h1>
<p>How we pay back what you spend.</p>
<section id="travel-section">
  <h2>Travel</h2>
  <p>Book trains with <code>portal.book()</code> through the portal.</p>
  <pre>portal.book(train=True)</pre>
  <ul><li>Economy class</li><li>First class</li></ul>
</section>
<h2 id="meals">Meals</h2>
<div>Up to <b>30 EUR</b> a day.</div>
</body></html>
"""


def _by_heading(document: chunking.ParsedDocument) -> dict[str, chunking.Section]:
    """Sections by heading path (the first, when a heading repeats)."""
    sections: dict[str, chunking.Section] = {}
    for section in document.sections:
        sections.setdefault(chunking.HEADING_SEPARATOR.join(section.headings), section)
    return sections


def test_markdown_sections_keep_their_heading_path_and_anchor():
    document = markup.parse(text=MARKDOWN, path="finance/expenses.md")

    sections = _by_heading(document)
    assert document.title == "Expenses"
    assert list(sections) == [
        "Expenses",
        "Expenses > Travel",
        "Expenses > Travel > Hotels",
    ]
    hotels = sections["Expenses > Travel > Hotels"]
    assert hotels.anchor == "hotels"
    assert "Berlin | 150 EUR" in hotels.text
    assert "```python\nlimit = nightly_limit(city)\n```" in hotels.text
    assert "- Economy class for trips under 4 hours" in sections["Expenses > Travel"].text


def test_markdown_repeated_headings_get_distinct_anchors():
    document = markup.parse(text=MARKDOWN, path="expenses.md")

    travel = [s for s in document.sections if s.headings == ("Expenses", "Travel")]
    assert [s.anchor for s in travel] == ["travel", "travel-1"]


def test_markdown_without_a_title_is_named_after_its_file():
    document = markup.parse(text="Just a paragraph.\n", path="team/on-call_rota.md")

    assert document.title == "On call rota"
    assert document.sections[0].headings == ("On call rota",)


def test_markdown_front_matter_is_metadata_not_text():
    text = '---\ntitle: "On-call rota"\nlayout: page\n---\nWho answers the pager this week.\n'

    document = markup.parse(text=text, path="oncall.md")

    assert document.title == "On-call rota"
    assert [(s.headings, s.text) for s in document.sections] == [
        (("On-call rota",), "Who answers the pager this week.")
    ]


def test_rst_with_sphinx_roles_and_directives_reads_cleanly():
    document = markup.parse(text=RST, path="finance/expenses.txt")

    sections = _by_heading(document)
    assert document.title == "Expenses"
    assert list(sections) == ["Expenses", "Expenses > Claims", "Expenses > Claims > Approval"]
    intro = sections["Expenses"].text
    assert "see the handbook and `Claim`." in intro
    claims = sections["Expenses > Claims"]
    assert claims.anchor == "claims"
    assert "Submit a claim with `submit_claim` within 30 days. FIN-12 tracks it." in claims.text
    assert "New in version 2.1:\n\nClaims can include photos of receipts." in claims.text
    assert "```\nClaim.objects.create(amount=12)\n```" in claims.text
    assert "Note: Receipts over 50 EUR need a scan." in claims.text
    assert "Remaining budget is shown in the portal." in claims.text
    everything = "\n".join(s.text for s in document.sections)
    for leaked in (":doc:", ":class:", ":jira:", ".. ", "versionadded", "System Message"):
        assert leaked not in everything
    assert not re.search(r"(?<!`)``(?!`)", everything)  # RST inline literals, not fences


def test_plain_text_in_a_txt_file_is_read_as_one_section():
    document = markup.parse(text="Remember to lock the door.\n", path="notes/office.txt")

    assert document.title == "Office"
    assert [s.text for s in document.sections] == ["Remember to lock the door."]


def test_html_headings_become_sections_and_page_chrome_is_dropped():
    document = markup.parse(text=HTML, path="expenses.html")

    sections = _by_heading(document)
    assert document.title == "Expenses"
    assert list(sections) == ["Expenses", "Expenses > Travel", "Expenses > Meals"]
    travel = sections["Expenses > Travel"]
    assert travel.anchor == "travel-section"
    assert "Book trains with `portal.book()` through the portal." in travel.text
    assert "```\nportal.book(train=True)\n```" in travel.text
    assert "- Economy class" in travel.text
    assert sections["Expenses > Meals"].anchor == "meals"
    assert sections["Expenses > Meals"].text == "Up to 30 EUR a day."
    everything = "\n".join(s.text for s in document.sections)
    assert "track()" not in everything
    assert "Home | Docs" not in everything


# Every construct that docutils parses with a state machine of its own (lists of each kind,
# field and option lists, explicit markup, line blocks, quoted literals, substitutions), nested.
RST_CONSTRUCTS = """Constructs
==========

A paragraph with *emphasis*, **strong**, ``code``, a `phrase <https://example.com/>`_, a bare
https://example.com/path?q=1 link, mail@example.com and :func:`django.setup`.

- a bullet

  - nested, with a literal::

        print("hi")

- second bullet

#. enumerated
#. and on

   (a) lettered inside

term
    Its definition, with a list:

    * starred

:field: a field list
:other: value

-v, --verbose  An option list.

| A line block
|    indented line

.. |name| replace:: Substituted

This uses |name| and a footnote [#]_.

.. [#] The footnote.

Quoted literal::

> quoted
> lines

.. note::

   An admonition with a table:

   =====  =====
   A      B
   =====  =====
   1      2
   =====  =====

.. versionchanged:: 6.0

   Changed, with a nested list:

   1. one
   2. two

Sub section
-----------

+-------+-------+
| grid  | table |
+=======+=======+
| cell  | cell  |
+-------+-------+

   A block quote.

       -- Attribution
"""


def test_rst_reads_the_same_as_with_docutils_own_parser(monkeypatch):
    """The faster parser (lazy state machines) changes the time, not the text."""
    import docutils.parsers.rst

    from domain.knowledge import rst_docutils

    ours = markup.parse(text=RST_CONSTRUCTS, path="constructs.txt")
    monkeypatch.setattr(rst_docutils, "Parser", docutils.parsers.rst.Parser)
    theirs = markup.parse(text=RST_CONSTRUCTS, path="constructs.txt")

    assert ours == theirs
    assert [s.headings for s in ours.sections] == [
        ("Constructs",),
        ("Constructs", "Sub section"),
    ]
    text = ours.sections[0].text
    for expected in (
        "https://example.com/path?q=1 link, mail@example.com and `django.setup`",
        '  ```\n    print("hi")\n    ```',
        "- and on\n  - lettered inside",
        "term\n  Its definition, with a list:\n  - starred",
        "```\n> quoted\n> lines\n```",
        "Changed in version 6.0:",
        "1 | 2",
    ):
        assert expected in text
