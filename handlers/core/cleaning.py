"""One cleaning step for every text that enters from outside: commands, signals, form fields, button values.

Stored text is NFC, not NFKC: NFKC would rewrite Chinese full-width punctuation (，：（）！ → ,:()!) and so change
what an author drafted and what gets published. NFKC is applied only where text is *matched* (`matching_form`):
the vet rules, fact comparison and the grammar's keywords.
"""

import re
import unicodedata
from dataclasses import dataclass

# Bidi overrides, embeddings and isolates can make text read differently from what it is: a command holding one is refused.
DISGUISING = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Direction marks have no visible effect worth keeping in outside text; they are dropped silently.
MARKS = frozenset("\u200e\u200f\u061c")
# Invisible characters that split words for the eye but not for a search: they would hide words from vet. Besides the
# zero-width ones and the soft hyphen: the Mongolian vowel separator (zero width since Unicode 6.3), the invisible
# math operators and the deprecated format characters, all drawn as nothing.
INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u2061\u2062\u2063\u2064\u206a\u206b\u206c\u206d\u206e\u206f")
# Tag characters are invisible too, except in the one place they draw something: a subdivision flag (🏴 + tags + end),
# whose tags spell a subdivision id (lower-case letters and digits, 2 to 6): any other run would carry hidden words.
_TAGS = range(0xE0000, 0xE0080)
_FLAG = re.compile("\U0001f3f4[\U000e0030-\U000e0039\U000e0061-\U000e007a]{2,6}\U000e007f")
ZWJ = "\u200d"
_EMOJI_LEFT = ("So", "Sk")  # what a ZWJ sequence joins after: a pictograph, a skin tone ...
_VARIATION = "\ufe0f"  # ... or the emoji presentation selector of one
# Any character the loop below would look at twice: most text has none, and is then only NFC-normalised.
_SUSPECT = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ud800-\udfff"
    "\U000e0000-\U000e007f]"
)


@dataclass(frozen=True)
class Cleaned:
    """Text after cleaning, and whether it held control or bidi characters a person should be told about."""

    text: str
    disguised: bool


def clean(raw: str, multiline: bool = True) -> Cleaned:
    """NFC text without control, bidi and invisible characters; newlines and tabs kept when multiline, else spaces."""
    text = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\u2028", "\n").replace("\u2029", "\n"))
    if not multiline:
        text = text.replace("\n", " ").replace("\t", " ")
    if not _SUSPECT.search(text):
        return Cleaned(text, False)
    kept: list[str] = []
    disguised = False
    flags = {index for found in _FLAG.finditer(text) for index in range(found.start() + 1, found.end())}
    for index, char in enumerate(text):
        if char in "\n\t":
            kept.append(char if multiline else " ")
        elif char in DISGUISING or unicodedata.category(char) == "Cc":
            disguised = True
        elif char == ZWJ and _joins_emoji(text, index):
            kept.append(char)
        elif char in INVISIBLE or char in MARKS or unicodedata.category(char) == "Cs":
            continue
        elif ord(char) in _TAGS and index not in flags:
            continue
        else:
            kept.append(char)
    # Again: a mark that followed a dropped character now follows a letter it may compose with (e, U+200B, U+0301).
    return Cleaned(unicodedata.normalize("NFC", "".join(kept)), disguised)


def cleaned(raw: str, multiline: bool = True) -> str:
    """Just the cleaned text (for fields where nobody is there to be told: signals, display names)."""
    return clean(raw, multiline).text


def _joins_emoji(text: str, index: int) -> bool:
    """Whether the ZWJ at `index` sits between two emoji (👨‍👩‍👧), where it is part of the picture."""
    if index == 0 or index + 1 >= len(text):
        return False
    before, after = text[index - 1], text[index + 1]
    return (unicodedata.category(before) in _EMOJI_LEFT or before == _VARIATION) and unicodedata.category(after) == "So"


def matching_form(text: str) -> tuple[str, list[int]]:
    """The form text is matched in (vet rules), and where each of its characters came from in `text`."""
    # Invisible and control characters dropped, each character NFKC: `No c\u200bomment` and full-width letters
    # match; the origins let a finding quote the words as written.
    seen: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char in INVISIBLE or char in MARKS or char in DISGUISING or (unicodedata.category(char) == "Cc" and char not in "\n\t"):
            continue
        for piece in unicodedata.normalize("NFKC", char):
            seen.append(piece)
            origin.append(index)
    return "".join(seen), origin


def quoted(text: str, origin: list[int], start: int, end: int) -> str:
    """The words of `text` behind characters start..end of its matching form."""
    if start >= end:
        return ""
    return text[origin[start] : origin[end - 1] + 1]


def keyword(word: str) -> str:
    """A word as the grammar compares it: NFKC and case-folded (ＤＵＥ and Due are `due`)."""
    return unicodedata.normalize("NFKC", word).casefold()
