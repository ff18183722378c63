"""The forms the vet rules read: no invisible characters or accents, look-alike letters folded, Traditional as Simplified.

Every step keeps, for each character it outputs, the place in the original it came from, so a finding still quotes
the words as the author wrote them.
"""

import re
import unicodedata
from functools import cache, lru_cache

from handlers.core.cleaning import matching_form

# Characters drawn as nothing that are neither format (Cf) characters nor marks (Mn, Me): the Hangul fillers
# (Default_Ignorable_Code_Point in Unicode's DerivedCoreProperties.txt) and the blank Braille pattern.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_DROPPED_CATEGORIES = frozenset(("Cf", "Mn", "Me"))  # format characters (bidi, tags, U+180E …), combining marks
_IGNORABLE_PLANE = range(0xE0000, 0xE1000)  # tags, variation selectors and the unassigned rest: default ignorable
# Scripts whose letters are never folded to Latin ones: 〇 is a Chinese zero, not an O.
_OWN_SCRIPTS = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO", "IDEOGRAPHIC")
_SMALL_CAPITAL = re.compile(r"LATIN LETTER SMALL CAPITAL ([A-Z])$")
# The blocks that hold small capitals: IPA Extensions, Phonetic Extensions (and Supplement), Latin Extended-D.
_SMALL_CAPITAL_BLOCKS = (range(0x0250, 0x02B0), range(0x1D00, 0x1DC0), range(0xA720, 0xA800))
_SPACE_RUN = re.compile(r"\s+")
# ASCII drawn like another letter inside a word: I or 1 or | for l (probabIy, probab1y), 0 for o (pr0bably).
_ASCII_L = re.compile(r"(?<=[a-z])I|I(?=[a-z])|(?<=[A-Za-z])[1|](?![0-9])|(?<![0-9])[1|](?=[A-Za-z])")
_ASCII_O = re.compile(r"(?<=[A-Za-z])0(?![0-9])|(?<![0-9])0(?=[A-Za-z])")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


@cache
def look_alikes() -> dict[int, str]:
    """Each character drawn like one Latin letter, with that letter (Unicode's confusables data, and small capitals).

    From `confusable_homoglyphs` (Unicode Technical Standard #39 confusables.txt): Cyrillic, Greek, Armenian,
    Cherokee, mathematical letters … that are confusable with a single ASCII letter; plus the small capitals
    (ᴏ ᴄ ᴍ ɴ …), which the data leaves out, by their Unicode names. Chinese and Japanese characters are kept.
    """
    from confusable_homoglyphs import confusables  # deferred: it reads its JSON data

    table: dict[int, str] = {}
    for char, entries in confusables.confusables_data.items():
        if len(char) != 1 or char.isascii() or unicodedata.category(char)[0] not in "LS":
            continue
        if unicodedata.name(char, "").startswith(_OWN_SCRIPTS):
            continue
        letter = next((e["c"] for e in entries if len(e["c"]) == 1 and e["c"].isascii() and e["c"].isalpha()), None)
        if letter:
            # The data's prototype for I is l: a capital (Greek Ι, Cyrillic І) stands for I.
            table[ord(char)] = "I" if letter == "l" and "CAPITAL" in unicodedata.name(char, "") else letter
    for block in _SMALL_CAPITAL_BLOCKS:
        for code in block:
            if match := _SMALL_CAPITAL.match(unicodedata.name(chr(code), "")):
                table[code] = match.group(1).lower()
    return table


@cache
def _converter():
    """OpenCC's Traditional → Simplified converter, built once (it reads its dictionaries)."""
    import opencc  # deferred: a process that never vets never loads the dictionaries

    return opencc.OpenCC("t2s")


def simplified(text: str) -> str:
    """Traditional Chinese as Simplified, character for character (a phrase that would change length is converted per character)."""
    if text.isascii():
        return text
    converted = _converter().convert(text)
    if len(converted) == len(text):
        return converted
    return "".join(piece if len(piece := _converter().convert(char)) == 1 else char for char in text)


def _hidden(char: str) -> bool:
    """Whether a character is drawn as nothing (or only changes how its neighbour is drawn)."""
    return char in _BLANK_LETTERS or unicodedata.category(char) in _DROPPED_CATEGORIES or ord(char) in _IGNORABLE_PLANE


def has_blanks(text: str) -> bool:
    """Whether the text has a blank letter, which may stand for a space ("no\u2800comment" is drawn "no comment")."""
    return not _BLANK_LETTERS.isdisjoint(text)


@lru_cache(maxsize=4096)  # characters come from users' drafts: bounded
def _pieces(original: str, char: str, blanks: str) -> str:
    """What one character of cleaning's matching form becomes: folded, its accents and invisible parts dropped."""
    table = look_alikes()
    if char in _BLANK_LETTERS:
        return blanks
    if ord(original) in table:  # before NFKC, which draws some differently (ϲ becomes ς)
        char = table[ord(original)]
    return "".join(table.get(ord(piece), piece) for piece in unicodedata.normalize("NFD", char) if not _hidden(piece))


@lru_cache(maxsize=8)  # a draft is read twice (its phrases and its facts) and its approved line once per vet
def _bare(text: str, blanks: str = "") -> tuple[str, tuple[int, ...]]:
    """Invisible characters and accents removed (NFD, then the marks dropped), look-alike letters folded."""
    seen, origin = matching_form(text)
    if seen.isascii():
        return seen, tuple(origin)
    chars: list[str] = []
    places: list[int] = []
    for char, place in zip(seen, origin, strict=True):
        if char.isascii():
            chars.append(char)
            places.append(place)
            continue
        for piece in _pieces(text[place], char, blanks):
            chars.append(piece)
            places.append(place)
    return "".join(chars), tuple(places)


def vetting_form(text: str, blanks_as_spaces: bool = False) -> tuple[str, list[int]]:
    """The text as the phrase rules read it, and where each of its characters came from in `text`.

    On top of the facts form, a run of spaces and line breaks is one space (two line breaks or more: one line
    break, a paragraph), and none is left between two Chinese characters: "no\\n  comment" and "无 可 奉 告" match.
    A blank letter (Hangul filler, blank Braille) is dropped, or read as a space with `blanks_as_spaces`.
    """
    chars, places = _bare(text, " " if blanks_as_spaces else "")
    pieces: list[str] = []
    origin: list[int] = []
    done = 0
    for run in _SPACE_RUN.finditer(chars):
        start, end = run.span()
        pieces.append(chars[done:start])
        origin.extend(places[done:start])
        done = end
        breaks = run.group().count("\n")
        between_han = start > 0 and end < len(chars) and _HAN.match(chars[start - 1]) and _HAN.match(chars[end])
        if breaks >= 2 or not between_han:
            pieces.append("\n" if breaks >= 2 else " ")
            origin.append(places[start])
    pieces.append(chars[done:])
    origin.extend(places[done:])
    return simplified("".join(pieces)), origin


def facts_form(text: str) -> tuple[str, list[int]]:
    """The text as the fact patterns read it: the phrase form's letters, but its spaces and line breaks as written."""
    chars, places = _bare(text)
    return simplified(chars), list(places)


def ascii_folded(seen: str) -> str | None:
    """The vetting form with ASCII look-alikes inside words read as the letter they pass for (same length, so the
    origins still hold); None when there are none. Read besides the text as written: "It" stays a word too."""
    folded = _ASCII_O.sub("o", _ASCII_L.sub("l", seen))
    return folded if folded != seen else None
