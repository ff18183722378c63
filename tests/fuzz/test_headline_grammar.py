"""The draft grammar keeps free text whole (issue 17): a headline is only what stands before a `|` near the start of the
first line; any other text, with bars anywhere else, comes back exactly as typed."""

from hypothesis import given
from hypothesis import strategies as st

from handlers.line.headline import HEADLINE_MAX, split_headline
from tests.fuzz.conftest import examples

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300)
LINE = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="|\n"), max_size=HEADLINE_MAX)


@examples(200)
@given(first=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="|\n"), max_size=400), rest=TEXT)
def test_a_text_without_a_bar_on_its_first_line_is_never_split(first, rest):
    text = f"{first}\n{rest}"
    assert split_headline(text) == (None, text)


@examples(200)
@given(headline=LINE, text=TEXT)
def test_a_headline_and_its_text_come_back_apart_and_whole(headline, text):
    found, body = split_headline(f"{headline} | {text}")
    assert found == (headline.strip() or None) and body == f"{text}".strip()


@examples(100)
@given(
    long=st.text(
        st.characters(blacklist_categories=("Cs", "Zs", "Cc"), blacklist_characters="|\n"), min_size=HEADLINE_MAX + 1, max_size=400
    ),
    text=TEXT,
)
def test_a_bar_too_far_into_the_first_line_is_part_of_the_text(long, text):
    typed = f"{long} | {text}"
    assert split_headline(typed) == (None, typed)
