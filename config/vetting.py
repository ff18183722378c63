"""One language's vetting rules (PRODUCT.md §4), each pattern checked at load as the vetter compiles it."""

import functools
import re
from typing import Annotated

from pydantic import AfterValidator, Field

from config.basics import Strict


def _check_pattern(pattern: str) -> str:
    """Accept a rule pattern only if it compiles as the vetter uses it (wrapped in a group)."""
    if error := _pattern_error(pattern):
        raise ValueError(f"{pattern!r} is not a valid regular expression: {error}") from None
    return pattern


@functools.lru_cache(maxsize=4096)  # the shipped rules hold ~360 patterns, more than re's own cache keeps: each config load re-checked them
def _pattern_error(pattern: str) -> str | None:
    """Why a pattern does not compile, alone and wrapped in a group; None when it does."""
    try:
        re.compile(pattern)
        re.compile(f"(?:{pattern})")  # inline global flags such as (?i) must start the whole expression
    except re.error as error:
        return str(error)
    return None


RegexPattern = Annotated[str, AfterValidator(_check_pattern)]  # checked one by one, so an error names its index


class VetRules(Strict):
    """One language's vetting rules (PRODUCT.md §4): phrases are case-insensitive regular expressions."""

    whole_words: bool = True  # English phrases match whole words; Chinese has no spaces to match on
    speculation: list[RegexPattern] = Field(default_factory=list)
    no_comment: list[RegexPattern] = Field(default_factory=list)
    blame: list[RegexPattern] = Field(default_factory=list)
    hollow_apology: list[RegexPattern] = Field(default_factory=list)  # a finding, and no empathy by itself
    empathy: list[RegexPattern] = Field(default_factory=list)  # at least one must appear (not in a rebuttal)
    next_update: list[RegexPattern] = Field(default_factory=list)  # a promise of more: with update_timing, "when"
    update_timing: list[RegexPattern] = Field(default_factory=list)  # a time or pace in the same sentence as a promise
    learn_more: list[RegexPattern] = Field(default_factory=list)  # where to learn more: hotline, page, official account
    unknowns: list[RegexPattern] = Field(default_factory=list)  # what is not yet known (a holding statement says it)
    claim_markers: list[RegexPattern] = Field(default_factory=list)  # words that report a claim (a rebuttal's)
    facts: dict[str, list[RegexPattern]] = Field(default_factory=dict)  # kind (number, date, time, amount, percent, entity) → patterns
    not_entities: list[str] = Field(default_factory=list)  # words that name nothing, trimmed from the ends of a name
    not_facts: list[RegexPattern] = Field(default_factory=list)  # salutations, list numbering: no fact is found inside
    name_tags: list[str] = Field(default_factory=list)  # jieba part-of-speech tags of names (people, places, organisations)
    surnames: str = ""  # a person's name (jieba tag nr*) starts with one of these characters
    not_names: list[str] = Field(default_factory=list)  # ordinary words the tagger takes for names
    place_suffixes: str = ""  # a word of three or more characters ending in one of these is a place (鼓楼区)
    confirmed: list[RegexPattern] = Field(default_factory=list)  # a confirmed fact without a figure: "tests showed", "经核实"
    hedges: list[RegexPattern] = Field(default_factory=list)  # words that leave a clause unconfirmed ("may be", "疑似")
    commitment: list[RegexPattern] = Field(default_factory=list)  # what the organisation commits to (a holding statement has one)
