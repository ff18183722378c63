"""A short word diff between two versions of a statement, quoting the words that changed."""

import difflib
import re

from handlers.text.i18n import _
from handlers.text.markup import Message, fmt, text, verbatim

# Chinese is written without spaces: each ideograph is a word of its own; other scripts split on non-word characters.
_TOKEN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[^\W\u3400-\u9fff\uf900-\ufaff]+|[^\w\s]")
MAX_CHANGES = 4
MAX_QUOTE = 60


def _tokens(value: str) -> list[re.Match]:
    return list(_TOKEN.finditer(value))


def _quote(value: str, tokens: list[re.Match], start: int, end: int) -> str:
    """The original text covered by tokens[start:end], shortened when long."""
    if start == end:
        return ""
    words = value[tokens[start].start() : tokens[end - 1].end()]
    return words if len(words) <= MAX_QUOTE else words[: MAX_QUOTE - 1].rstrip() + "…"


def changes(old: str, new: str) -> list[tuple[str, str]]:
    """(removed, added) pairs of words, in order; one side is '' for a pure insertion or deletion."""
    before, after = _tokens(old), _tokens(new)
    matcher = difflib.SequenceMatcher(None, [t.group() for t in before], [t.group() for t in after], autojunk=False)
    return [(_quote(old, before, i1, i2), _quote(new, after, j1, j2)) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def short_diff(old: str, new: str) -> Message:
    """“old” → “new” for each change, at most a few, then how many more."""
    found = changes(old, new)
    if not found:
        return text(_("no change in wording"))
    parts = []
    for removed, added in found[:MAX_CHANGES]:
        if removed and added:
            parts.append(fmt("“{old}” → “{new}”", old=verbatim(removed), new=verbatim(added)))
        elif added:
            parts.append(fmt("+ “{new}”", new=verbatim(added)))
        else:
            parts.append(fmt("− “{old}”", old=verbatim(removed)))
    message = Message()
    for i, part in enumerate(parts):
        message = message + (text("; ") if i else Message()) + part
    if len(found) > MAX_CHANGES:
        message = message + fmt(_(" (and {count} more)"), count=len(found) - MAX_CHANGES)
    return message
