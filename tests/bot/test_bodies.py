"""The depth check against the parser it guards: it never lets through what would nest too deep, and on valid JSON it
agrees exactly with a plain character-by-character count."""

import json

from hypothesis import given
from hypothesis import strategies as st

from bot.bodies import Malformed, nests_deeper, parse_json
from tests.fuzz.conftest import examples

LIMIT = 4


def reference_depth(text: str) -> int:
    """How deep a JSON parser would recurse reading text, until it meets something it cannot parse."""
    depth = deepest = 0
    inside = escaped = False
    for char in text:
        if inside:
            inside, escaped = (inside, False) if escaped else (char != '"', char == "\\")
        elif char == '"':
            inside = True
        elif char == "\\":
            break  # a backslash outside a string: the parser stops here
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
            if depth < 0:
                break
    return deepest


TEXT = st.text(alphabet='[]{}"\\a,: ', max_size=60)
VALUES = st.recursive(
    st.one_of(st.integers(), st.text(alphabet='[]{}"\\ab\u00e9', max_size=6), st.none()),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(alphabet='[{"\\k', max_size=3), inner, max_size=3)),
    max_leaves=30,
)


@examples(200)
@given(text=TEXT)
def test_nothing_deeper_than_the_limit_gets_through_whatever_the_text(text):
    if reference_depth(text) > LIMIT:
        assert nests_deeper(text, LIMIT)


@examples(100)
@given(value=VALUES)
def test_on_valid_json_the_check_agrees_with_the_parser(value):
    text = json.dumps(value, ensure_ascii=False)
    assert nests_deeper(text, LIMIT) == (reference_depth(text) > LIMIT), text


def test_parse_json_refuses_depth_and_huge_numbers_in_one_line():
    for body, reason in [("[" * 50_000, "JSON nested deeper than 32 levels"), ("9" * 5000, "not JSON: Exceeds the limit (4300 digits)")]:
        try:
            parse_json(body)
        except Malformed as refusal:
            assert str(refusal).startswith(reason) and "\n" not in str(refusal)
        else:
            raise AssertionError(f"{body[:10]!r} was accepted")
    assert parse_json('{"a": [[1]]}') == {"a": [[1]]}
