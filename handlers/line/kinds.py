"""Kinds of statement (PRODUCT.md §4) and the rules that depend on the kind: what each kind must contain, and a rebuttal's shape."""

import re
from collections.abc import Iterator

from handlers.text.i18n import N_, _

KINDS = ("holding", "update", "apology", "clarification", "rebuttal", "closing")
FIRST, LATER = "holding", "update"  # the default kind until a first version is approved, and after
# What a text of each kind must contain (each missing part is a finding). A holding statement is checked against
# the parts of a first message that words can show: empathy, when the next update comes, where to learn more, and
# what is not yet known; a rebuttal needs no empathy; a closing statement needs no next update.
REQUIRED = {
    "holding": ("empathy", "next_update", "learn_more", "unknowns"),
    "update": ("empathy", "next_update"),
    "apology": ("empathy", "next_update"),
    "clarification": ("empathy", "next_update"),
    "rebuttal": ("next_update",),
    "closing": ("empathy",),
}
_NAMES = {
    "holding": N_("holding statement"),
    "update": N_("update"),
    "apology": N_("apology"),
    "clarification": N_("clarification"),
    "rebuttal": N_("rebuttal"),
    "closing": N_("closing statement"),
}
# A full stop ends an English sentence only before a space or the end ("a.m.", "status.example.com", "1.2万" go on).
_SENTENCE = re.compile(r"(?:[^.!?。！？\n]|[.!?](?![\s]|$))+(?:[.!?]+(?=\s|$)|[。！？]+|\n|$)")


def kind_name(kind: str | None) -> str:
    """A kind in the reader's language ("" for versions written before kinds existed)."""
    return _(_NAMES[kind]) if kind in _NAMES else (kind or "")


def default_kind(approved_before: bool) -> str:
    """`holding` until the incident's first statement is approved (a rejected first draft is redone as one), `update` after (§4)."""
    return LATER if approved_before else FIRST


def split_kind(words: str) -> tuple[str | None, str]:
    """A leading kind word and the rest (`rebuttal Our water is safe` → rebuttal, `Our water is safe`); else None and all."""
    head, _space, rest = words.strip().partition(" ")
    if head in KINDS and rest.strip():
        return head, rest.strip()
    return None, words


def sentences(text: str) -> Iterator[tuple[int, int]]:
    """Where each sentence of a text (en or zh) starts and ends."""
    for match in _SENTENCE.finditer(text):
        if match.group().strip():
            yield match.span()
