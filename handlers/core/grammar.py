"""Where the grammar's keywords stand: flags and `+`/`-` first, `due …`/`in …` last; the free text between is never searched."""

import re
from datetime import date, timedelta

from config.durations import parse_duration
from handlers.core.cleaning import keyword
from handlers.core.errors import UsageError
from handlers.text.i18n import _
from handlers.text.markup import fmt

_WORD = re.compile(r"\S+")
# What a person means as a duration, right or wrong (-5m, 1.5h, 0m, 5parsecs); "in person" or "in 2027" are text.
_DURATION_LIKE = re.compile(r"^[-+]?[0-9]+(?:[.,][0-9]+)?[a-z]+$")
_WHOLE = re.compile(r"^[0-9]+[a-z]+$")
FURTHEST_YEARS = 5  # a due date further away than this is a typo


def leading(text: str, count: int) -> tuple[list[str], str]:
    """The first `count` words and the text after them, with its own spacing kept."""
    words = list(_WORD.finditer(text))[:count]
    rest = text[words[-1].end() :].strip() if words else text.strip()
    return [w.group() for w in words], rest


def trailing(text: str, count: int) -> tuple[str, list[str]]:
    """The text before the last `count` words, with its own spacing kept, and those words."""
    words = list(_WORD.finditer(text))[-count:] if count else []
    head = text[: words[0].start()].strip() if words else text.strip()
    return head, [w.group() for w in words]


def is_word(word: str | None, *keywords: str) -> bool:
    """Whether a word is one of the grammar's keywords, as a whole word (full-width and case ignored)."""
    return word is not None and keyword(word) in keywords


def looks_like_duration(word: str) -> bool:
    """Whether a word was meant as a duration (`30m`, `-5m`, `1.5h`), so a wrong one is refused instead of kept as text."""
    return bool(_DURATION_LIKE.match(keyword(word)))


def duration(word: str) -> timedelta:
    """A duration typed in a command: a whole number above zero and a unit, at most LONGEST; else the reason."""
    typed = keyword(word)
    if not _WHOLE.match(typed):
        raise UsageError(fmt(_("“{value}” is not a duration: use a whole number above zero, such as 45s, 30m, 2h or 3d."), value=word[:20]))
    try:
        span = parse_duration(typed)
    except ValueError as error:
        if "at most" in str(error):
            raise UsageError(fmt(_("“{value}” is too far away; the longest is 366d."), value=word[:20])) from None
        raise UsageError(fmt(_("“{value}” is not a duration; write 45s, 30m, 2h or 3d."), value=word[:20])) from None
    if span <= timedelta(0):
        raise UsageError(fmt(_("“{value}” is not a duration: use a whole number above zero, such as 45s, 30m, 2h or 3d."), value=word[:20]))
    return span


def due_day(word: str, today: date) -> date:
    """A due date as YYYY-MM-DD: not in the past, and not more than FURTHEST_YEARS ahead."""
    try:
        day = date.fromisoformat(keyword(word)) if len(word) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise UsageError(_("Give the due date as YYYY-MM-DD or as `in 3d`."))
    if day < today:
        raise UsageError(fmt(_("{day} is in the past: give a date from today on."), day=day.isoformat()))
    if day.year > today.year + FURTHEST_YEARS:
        raise UsageError(fmt(_("{day} is too far away: give a date within {years} years."), day=day.isoformat(), years=FURTHEST_YEARS))
    return day
