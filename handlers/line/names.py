"""Chinese names of people, places and organisations in a text, found with jieba's part-of-speech tags."""

import logging
import threading
from functools import cache

from config.model import VetRules

_PERSON_TAGS = ("nr", "nrfg", "nrt")
_RARE = 50  # a dictionary word tagged as a person but used more often than this is an ordinary word (顾客, 安全带)
# jieba's tagger costs about a millisecond a character (more on odd text): names are looked for in the first
# MOST_TAGGED characters only, far beyond any statement, so that a huge text cannot hold a worker for long.
MOST_TAGGED = 2000
# Its HMM (which finds names missing from the dictionary) costs far more on odd text: 2,000 random characters took 9 s
# with it and 0.01 s without, and 300 took 1.9 s (found by attack): it reads only the opening, where statements name
# who and where; later names are found when the dictionary knows them.
MOST_GUESSED = 120


_BUILDING = threading.Lock()  # warm() builds it on a thread of its own while a command may ask for it


def warm(rules: list[VetRules]) -> None:
    """Build the tagger now (blocking: call it on a thread of its own) when the rules look for Chinese names."""
    if any(ruleset.name_tags for ruleset in rules):
        _tagger()


def _tagger():
    """jieba's tagger, built once per process, whoever asks first."""
    with _BUILDING:
        return _built()


@cache
def _built():
    """jieba's tagger: it reads its dictionaries, about 1.6 s of CPU."""
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()  # its word list, which it would otherwise read on the first cut
    return jieba.posseg.POSTokenizer(tokenizer)


def _has_chinese(text: str) -> bool:
    return any("\u3400" <= char <= "\u9fff" for char in text)


def chinese_names(text: str, rules: list[VetRules]) -> list[tuple[int, int]]:
    """Where each name stands in the text: a word jieba tags as a name, that looks like one and is not an ordinary word."""
    tags = {tag for ruleset in rules for tag in ruleset.name_tags}
    if not tags or not _has_chinese(text):
        return []
    surnames = "".join(ruleset.surnames for ruleset in rules)
    suffixes = "".join(ruleset.place_suffixes for ruleset in rules)
    ordinary = {word for ruleset in rules for word in ruleset.not_names}
    tagger = _tagger()
    spans, position = [], 0
    words = [*tagger.cut(text[:MOST_GUESSED]), *tagger.cut(text[MOST_GUESSED:MOST_TAGGED], HMM=False)]
    for word, tag in words:
        start = text.find(word, position)
        if start < 0:
            continue
        position = start + len(word)
        place = len(word) >= 3 and word[-1] in suffixes and tag in ("n", "s", "nz")  # a district the tagger missed
        if (tag not in tags and not place) or len(word) < 2 or word in ordinary or not _has_chinese(word):
            continue
        if tag in _PERSON_TAGS and not _person(word, tag, surnames, tagger):
            continue
        spans.append((start, position))
    return spans


def _person(word: str, tag: str, surnames: str, tagger) -> bool:
    """A person's name: two to four characters after a surname, found by the tagger or rare in its dictionary."""
    if len(word) > 4 or word[0] not in surnames:
        return False
    frequency = tagger.tokenizer.FREQ.get(word) or 0
    return tag != "nr" or frequency < _RARE
