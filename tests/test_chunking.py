"""Chunks are bounded in size, keep their heading path, and lose no text."""

from domain.knowledge import chunking, documents

PARAGRAPH = ("Every claim needs a receipt and a short reason for the expense. " * 5).strip()


def test_a_long_section_is_split_between_paragraphs_into_bounded_chunks():
    text = "\n\n".join(f"{i}. {PARAGRAPH}" for i in range(20))
    document = chunking.ParsedDocument(
        title="Expenses",
        sections=[chunking.Section(headings=("Expenses", "Claims"), anchor="claims", text=text)],
    )

    chunks = chunking.chunk(document=document, max_chars=1000)

    assert len(chunks) > 1
    assert all(len(c.text) <= 1000 for c in chunks)
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert {c.heading_path for c in chunks} == {"Expenses > Claims"}
    assert {c.anchor for c in chunks} == {"claims"}
    assert all(c.text.split(". ", 1)[0].isdigit() for c in chunks)  # cut between paragraphs
    assert "\n\n".join(c.text for c in chunks) == text


def test_sections_become_chunks_in_order_and_empty_ones_are_skipped():
    document = chunking.ParsedDocument(
        title="Guide",
        sections=[
            chunking.Section(headings=("Guide",), anchor="", text="Intro.\n\n\n\nMore.   "),
            chunking.Section(headings=("Guide", "Empty"), anchor="empty", text="  \n "),
            chunking.Section(headings=("Guide", "Setup"), anchor="setup", text="Run it."),
        ],
    )

    chunks = chunking.chunk(document=document)

    assert [(c.position, c.heading_path, c.anchor, c.text) for c in chunks] == [
        (0, "Guide", "", "Intro.\n\nMore."),
        (1, "Guide > Setup", "setup", "Run it."),
    ]


def test_links_follow_how_each_format_is_published():
    base = "https://docs.example.com/en/"

    assert documents.url_for(base_url="", path="guide/setup.md") == ""
    assert documents.url_for(base_url=base, path="guide/setup.md") == base + "guide/setup.md"
    assert documents.url_for(base_url=base, path="topics/db/managers.txt") == (
        base + "topics/db/managers/"
    )
    assert documents.url_for(base_url=base, path="topics/index.rst") == base + "topics/"
    assert documents.url_for(base_url=base, path="index.txt") == base
    assert documents.url_for(base_url="https://x.test", path="a.html") == "https://x.test/a.html"
