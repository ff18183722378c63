"""Cleaning at the edge is one step: what it leaves is clean, so cleaning it again changes nothing (a stored text
shown later is shown as stored), even where a dropped invisible character stood between a letter and its accent."""

from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.core.cleaning import clean

DROPPED = "\u200b\u00ad\u180e\u2062\u206a\u200e\U000e0041\U000e007f"
PIECES = st.one_of(
    st.sampled_from(list(DROPPED)),
    st.sampled_from(["e", "a", "\u0301", "\u0308", "\u200d", "👩", "🚒", "\U0001f3f4", "\n", " "]),
    st.characters(blacklist_categories=("Cs",)),
)


def test_an_accent_after_a_dropped_invisible_character_composes_with_its_letter():
    assert clean("Cafe\u200b\u0301 cre\u180e\u0300me").text == "Café crème"


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=30).map("".join))
def test_cleaning_what_cleaning_left_changes_nothing(raw):
    once = clean(raw).text
    assert clean(once).text == once and not clean(once).disguised
