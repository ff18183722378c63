"""Facts in a statement (numbers, dates, times, amounts, percentages, names) and whether the approved line states them."""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cache, lru_cache

from config.model import VetRules
from handlers.line.fact_values import date_value, same_date, time_value
from handlers.line.names import chinese_names

# Letters and digits of the scripts that separate words with spaces: a word ends where they stop.
# Chinese characters are not among them, so "3" stands alone in "3月" but not in "30" or "v3".
LATIN_WORD = "0-9a-zA-Z\u00c0-\u024f"
# When two facts overlap the longer wins; at equal length the more specific kind does.
SPECIFIC_FIRST = ("amount", "percent", "date", "time", "entity")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_SPACES = re.compile(r"\s+")
_TOKEN = re.compile(r"\S+")


@dataclass(frozen=True)
class Fact:
    """A fact found in a text: its kind, its place and its words as written."""

    kind: str
    start: int
    end: int
    text: str


@cache
def compiled(pattern: str) -> re.Pattern[str]:
    """A rule's pattern compiled once per process: every pattern is case-insensitive."""
    return re.compile(pattern, re.IGNORECASE)


def normalise(text: str) -> str:
    """The form facts are compared in: NFKC, case-folded, no thousands separators, single spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _SPACES.sub(" ", _THOUSANDS.sub("", text)).strip()


def extract_facts(text: str, rules: Iterable[VetRules], names: bool = True) -> list[Fact]:
    """Every fact of the text in order, the most specific one where several overlap; none inside a salutation or list number.

    `names=False` leaves out the Chinese names found by the tagger (slow), where only dates and times are wanted.
    """
    rules = list(rules)
    stop_words = frozenset(word.casefold() for ruleset in rules for word in ruleset.not_entities)
    masked = [match.span() for ruleset in rules for pattern in ruleset.not_facts for match in compiled(pattern).finditer(text)]
    found = chinese_names(text, rules) if names else []
    candidates = [Fact("entity", start, end, text[start:end]) for start, end in found]
    for ruleset in rules:
        for kind, patterns in ruleset.facts.items():
            for pattern in patterns:
                for match in compiled(pattern).finditer(text):
                    matched = Fact(kind, match.start(), match.end(), match.group())
                    fact = _trim_names(matched, stop_words) if kind == "entity" else matched
                    if fact and fact.text.strip():
                        candidates.append(fact)
    kept = [fact for fact in candidates if not any(start < fact.end and fact.start < end for start, end in masked)]
    return _most_specific(kept)


def _trim_names(fact: Fact, stop_words: frozenset[str]) -> Fact | None:
    """The name without words at either end that name nothing ("The Ministry of Health" → "Ministry of Health")."""
    tokens = list(_TOKEN.finditer(fact.text))
    while tokens and tokens[0].group().casefold() in stop_words:
        tokens.pop(0)
    while tokens and tokens[-1].group().casefold() in stop_words:
        tokens.pop()
    if not tokens:
        return None
    start, end = fact.start + tokens[0].start(), fact.start + tokens[-1].end()
    return replace(fact, start=start, end=end, text=fact.text[tokens[0].start() : tokens[-1].end()])


def _specificity(kind: str) -> int:
    # Kinds a team adds itself rank after the shipped specific ones and before a bare number.
    if kind in SPECIFIC_FIRST:
        return SPECIFIC_FIRST.index(kind)
    return len(SPECIFIC_FIRST) + (kind == "number")


def _most_specific(candidates: list[Fact]) -> list[Fact]:
    """Keep, of overlapping facts, the longest, then the most specific; in text order."""
    kept: list[Fact] = []
    taken = [False] * (max((f.end for f in candidates), default=0))
    for fact in sorted(candidates, key=lambda f: (f.start - f.end, _specificity(f.kind), f.start)):
        if any(taken[fact.start : fact.end]):
            continue
        taken[fact.start : fact.end] = [True] * (fact.end - fact.start)
        kept.append(fact)
    return sorted(kept, key=lambda f: f.start)


@lru_cache(maxsize=4096)  # facts come from users' drafts: bounded, unlike the patterns of the config
def _standing_alone(fact: str) -> re.Pattern[str]:
    """A pattern for a normalised fact that is not part of a longer word or number."""
    before = f"(?<![{LATIN_WORD}])(?<!\\d\\.)" if re.match(f"[{LATIN_WORD}]", fact) else ""
    after = f"(?![{LATIN_WORD}])(?!\\.\\d)" if re.search(f"[{LATIN_WORD}]$", fact) else ""
    return re.compile(before + re.escape(fact) + after)


def unapproved_facts(text: str, approved: str, rules: Iterable[VetRules]) -> list[Fact]:
    """Each distinct fact of the text that the approved line does not state, once, in text order.

    Dates and times are compared by value (`1 June` is `June 1st`, `15:00` is `3pm`); everything else by its words.
    """
    rules = list(rules)
    reference = normalise(approved)
    approved_facts = extract_facts(approved, rules, names=False)
    dates = [value for fact in approved_facts if fact.kind == "date" and (value := date_value(fact.text))]
    times = [clock for fact in approved_facts if fact.kind == "time" and (clock := time_value(fact.text))]
    seen: set[str] = set()
    missing = []
    for fact in extract_facts(text, rules):
        key = normalise(fact.text)
        if key in seen:
            continue
        seen.add(key)
        if _standing_alone(key).search(reference) or _same_value(fact, dates, times):
            continue
        missing.append(fact)
    return missing


def _same_value(fact: Fact, dates: list, times: list) -> bool:
    """Whether a date or time of the text is one the approved line states, in whatever form."""
    if fact.kind == "date" and (value := date_value(fact.text)):
        return any(same_date(value, other) for other in dates)
    if fact.kind == "time" and (clock := time_value(fact.text)):
        return any(clock[0] == other[0] and (not clock[1] or not other[1] or clock[1] == other[1]) for other in times)
    return False
