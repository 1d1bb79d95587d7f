from hypothesis import given
from hypothesis import strategies as st

from domain.text import message_splitting


def test_short_text_is_one_piece():
    assert message_splitting.split(text="Hello there", limit=100) == ["Hello there"]


def test_long_text_breaks_at_paragraphs_and_keeps_every_word():
    paragraphs = [f"Paragraph {n} " + "word " * 30 for n in range(20)]
    text = "\n\n".join(p.strip() for p in paragraphs)

    pieces = message_splitting.split(text=text, limit=500)

    assert len(pieces) > 1
    assert all(len(piece) <= 500 for piece in pieces)
    assert all(piece.startswith("Paragraph") for piece in pieces)
    assert " ".join(pieces).split() == text.split()


def test_a_code_block_cut_in_two_is_closed_and_reopened():
    text = "Run this:\n```\n" + "\n".join(f"line {n}" for n in range(200)) + "\n```\nDone."

    pieces = message_splitting.split(text=text, limit=300)

    assert all(piece.count("```") % 2 == 0 for piece in pieces)
    assert all(len(piece) <= 300 for piece in pieces)


@given(st.text(alphabet=st.sampled_from("ab \n`"), max_size=2000), st.integers(20, 400))
def test_no_piece_exceeds_the_limit_and_no_text_is_lost(text, limit):
    pieces = message_splitting.split(text=text, limit=limit)

    assert all(len(piece) <= limit for piece in pieces)
    assert "".join("".join(pieces).split()).replace("`", "") == "".join(text.split()).replace(
        "`", ""
    )
