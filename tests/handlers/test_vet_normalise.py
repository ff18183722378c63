"""Nothing hides a phrase from vet (PRODUCT.md §4), as a class: any invisible, combining or whitespace character put
into a phrase, and any letter swapped for a look-alike, in English, Simplified and Traditional Chinese; the finding
still quotes the words as the author wrote them.

The look-alikes are drawn here from Unicode names (fullwidth, mathematical, small capital) and from Cyrillic, Greek and
Armenian letters, not from the vetter's own table, so the test does not check the table against itself.
"""

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.line.vetting import vet
from tests.templates import copy_of_starter

RULES = list(copy_of_starter().vet.values())

# (text, rule, the words of the phrase in the text): texts in none of the rule files.
ENGLISH = [
    ("Asked about the pay-outs, the firm said it had no comment at this stage.", "no_comment", "no comment"),
    ("The leak was probably caused by old pipework.", "speculation", "probably"),
    ("Delays at the port are beyond our control, the operator said.", "blame", "beyond our control"),
    ("We apologise for having to close the pool early.", "hollow_apology", "apologise for having to"),
]
CHINESE = [
    ("关于赔偿金额，公司方面表示无可奉告。", "no_comment", "无可奉告"),
    ("關於賠償金額，公司方面表示無可奉告。", "no_comment", "無可奉告"),
    ("据说停水是因为水管老化。", "speculation", "据说"),
    ("據說停水是因為水管老化。", "speculation", "據說"),
    ("本次停电系施工单位挖断电缆所致。", "blame", "系施工单位挖断电缆所致"),
    ("本次停電係施工單位挖斷電纜所致。", "blame", "係施工單位挖斷電纜所致"),
]

INVISIBLE = [
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e", "\u034f",  # zero width, soft hyphen, Mongolian VS
    "\u3164", "\uffa0", "\u2800", "\u115f", "\u1160",  # Hangul fillers, blank Braille
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f", "\u061c",
]  # fmt: skip
hidden = st.one_of(
    st.sampled_from(INVISIBLE),
    st.integers(0xE0000, 0xE007F).map(chr),  # the tag block
    st.integers(0xFE00, 0xFE0F).map(chr),  # variation selectors
    st.integers(0xE0100, 0xE01EF).map(chr),  # variation selectors supplement
    st.integers(0x0300, 0x036F).map(chr),  # combining diacritical marks
    st.sampled_from("\u0483\u0591\u0610\u1ab0\u1dc0\u20d0\u20dd\u20e3\ufe20"),  # marks of other blocks, enclosing marks
)
spaces = st.text(st.sampled_from(" \t\u00a0\u2002\u2003\u2009\u202f\u205f\u3000"), min_size=1, max_size=4)
space_run = st.tuples(spaces, st.booleans(), spaces).map(lambda parts: parts[0] + ("\n" if parts[1] else "") + parts[2])

CYRILLIC_GREEK_ARMENIAN = {
    "a": "аα", "c": "сϲ", "e": "е", "h": "һ", "i": "іι", "j": "ј", "o": "оοօ", "p": "рρ", "s": "ѕ", "u": "ս", "v": "ν",
    "x": "хχ", "y": "у", "d": "ԁ", "g": "ց", "n": "ո",
}  # fmt: skip


def _named(letter: str) -> list[str]:
    """Look-alikes of a Latin letter found by Unicode name: fullwidth, mathematical styles, small capital."""
    names = [f"FULLWIDTH LATIN SMALL LETTER {letter.upper()}", f"LATIN LETTER SMALL CAPITAL {letter.upper()}"]
    names += [f"MATHEMATICAL {style} SMALL {letter.upper()}" for style in ("BOLD", "ITALIC", "SANS-SERIF", "MONOSPACE", "DOUBLE-STRUCK")]
    found = []
    for name in names:
        try:
            found.append(unicodedata.lookup(name))
        except KeyError:
            continue
    return found


def look_alike(letter: str) -> st.SearchStrategy[str]:
    """A letter, or one drawn like it."""
    lower = letter.lower()
    return st.sampled_from([letter, *CYRILLIC_GREEK_ARMENIAN.get(lower, ""), *_named(lower)])


def finding(text: str, rule: str) -> list[str]:
    return [f.quote for f in vet(text, RULES, kind="update") if f.rule == rule]


def _assert_found(text: str, rule: str, start: int, end: int) -> None:
    """The rule fires and quotes the phrase as written: from its first visible character to its last."""
    quotes = finding(text, rule)
    assert quotes, f"{rule} not found in {text!r}"
    phrase = text[start:end]
    assert any(quote.strip() and quote.strip() in phrase or phrase.strip() in quote for quote in quotes), (quotes, phrase)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(ENGLISH + CHINESE), data=st.data())
def test_invisible_and_combining_characters_inside_a_phrase_hide_nothing(case, data):
    text, rule, words = case
    start = text.index(words)
    inserts = data.draw(st.lists(st.tuples(st.integers(1, len(words) - 1), hidden), min_size=1, max_size=4))
    chars = list(words)
    for place, char in sorted(inserts, reverse=True):
        chars.insert(place, char)
    changed = "".join(chars)
    _assert_found(text[:start] + changed + text[start + len(words) :], rule, start, start + len(changed))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(ENGLISH), data=st.data())
def test_runs_of_spaces_and_a_line_break_between_the_words_of_a_phrase_hide_nothing(case, data):
    text, rule, words = case
    start = text.index(words)
    changed = "".join(data.draw(space_run) if char == " " else char for char in words)
    _assert_found(text[:start] + changed + text[start + len(words) :], rule, start, start + len(changed))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(CHINESE), data=st.data())
def test_spaces_between_chinese_characters_hide_nothing(case, data):
    text, rule, words = case
    start = text.index(words)
    places = data.draw(st.sets(st.integers(1, len(words) - 1), min_size=1))
    changed = "".join((data.draw(space_run) if index in places else "") + char for index, char in enumerate(words))
    _assert_found(text[:start] + changed + text[start + len(words) :], rule, start, start + len(changed))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(ENGLISH), data=st.data())
def test_letters_swapped_for_look_alikes_hide_nothing(case, data):
    text, rule, words = case
    start = text.index(words)
    changed = "".join(data.draw(look_alike(char)) if char.isalpha() else char for char in words)
    _assert_found(text[:start] + changed + text[start + len(words) :], rule, start, start + len(changed))


def test_every_attack_at_once_is_still_quoted_as_written():
    attacked = "We have n\u200bо\u0301\n  ᴄ\U000e0041ｏ𝐦m\u3164ent."  # Cyrillic о, accent, line break, small capital, tag
    assert finding(attacked, "no_comment") == ["n\u200bо\u0301\n  ᴄ\U000e0041ｏ𝐦m\u3164ent"]
    assert finding("對此無 可\n奉\u200b告。", "no_comment") == ["無 可\n奉\u200b告"]


def test_chinese_zero_and_ordinary_accented_words_are_read_as_they_are():
    # 〇 is a Chinese zero, not a Latin O; an accent is dropped for matching only, never from a quote or a fact.
    assert finding("二〇二六年，我们无可奉告。", "no_comment") == ["无可奉告"]
    followup = [f.quote for f in vet("The café in Zürich reopens.", RULES, "The café in Zürich reopens.") if f.rule == "consistency"]
    assert followup == []


@pytest.mark.parametrize("blank", ["\u2800", "\u3164", "\uffa0", "\u115f"])
def test_a_blank_letter_standing_for_a_space_hides_nothing_either(blank):
    # Drawn as a space between words ("no⠀comment" reads "no comment"), as nothing inside one: both readings are vetted.
    assert finding(f"Our answer: no{blank}comment.", "no_comment") == [f"no{blank}comment"]
    assert finding(f"Our answer: no com{blank}ment.", "no_comment") == [f"no com{blank}ment"]
