"""The words users read (docs/glossary.md): no catalog string, English or Chinese, shows a term from the glossary's
"never show" column outside a command example; Chinese text uses full-width punctuation."""

import re
from pathlib import Path

from babel.messages.pofile import read_po

from handlers.catalog import registry

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "config" / "locales" / "zh" / "LC_MESSAGES" / "onevoice.po"
NEVER_SHOW = {  # pattern → the words we show instead (docs/glossary.md)
    r"\bsev ?[1-4]?\b": "severity 2 — serious / 二级（严重）",
    r"\backs?\b|\backed\b": "accept, accepted",
    r"\backnowledg\w*": "accept, accepted",
    r"\bnudg\w*": "reminder",
    r"\bvet(s|ted|ting)?\b": "review the wording / check the wording",
    r"approval latency": "time to approval",
    r"time to assemble": "time until the team was in place",
    r"content lead": "communications lead",
    r"\bCST\b": "Beijing time / 北京时间, or GMT+8",
    r"\b0 min\b|\b0 分钟": "less than a minute",
}
GRAMMAR = re.compile(r"`[^`]*`|<[^>]*>|\[[^\]]*\]|/crisis \S+")  # command examples, placeholders, options
CJK = "\u4e00-\u9fff"
HALF_WIDTH_BESIDE_CJK = re.compile(rf"[{CJK}，。]\s*[,;:?!()]|[,;:?!(]\s*[{CJK}]|[{CJK}]\s*\.(\s|$)")


def _entries() -> list[tuple[str, list[str]]]:
    with CATALOG.open("rb") as source:
        catalog = read_po(source)
    found = []
    for message in catalog:
        if not message.id:
            continue
        ids = list(message.id) if isinstance(message.id, tuple) else [message.id]
        strings = list(message.string) if isinstance(message.string, tuple) else [message.string]
        found.append((ids[0], ids + [s for s in strings if s]))
    return found


def _usage_example(msgid: str) -> bool:
    """A command as typed ('declare product-quality sev2 <what happened>'): its words are the grammar's."""
    first = msgid.split(" ", 1)[0]
    return first in registry().aliases and "<" in msgid


def shown_words(text: str) -> str:
    """The text a reader sees as prose: command examples, placeholders and {fields} taken out."""
    return re.sub(r"\{[^}]*\}", "X", GRAMMAR.sub(" ", text))


def test_no_catalog_string_shows_a_term_the_glossary_forbids():
    wrong = []
    for msgid, texts in _entries():
        if _usage_example(msgid):
            continue
        for text in texts:
            for pattern, instead in NEVER_SHOW.items():
                if re.search(pattern, shown_words(text), re.IGNORECASE):
                    wrong.append(f"{text!r}: say {instead}")
    assert wrong == []


def test_chinese_text_uses_full_width_punctuation():
    wrong = []
    for _msgid, texts in _entries():
        for text in texts[1:]:
            if re.search(f"[{CJK}]", text) and HALF_WIDTH_BESIDE_CJK.search(shown_words(text)):
                wrong.append(text)
    assert wrong == []


def test_the_checks_find_what_they_look_for():
    assert re.search(list(NEVER_SHOW)[0], shown_words("Incident #1 is sev2 now"), re.IGNORECASE)
    assert not re.search(list(NEVER_SHOW)[1], shown_words("Accept it: `/crisis ack`"), re.IGNORECASE)
    assert HALF_WIDTH_BESIDE_CJK.search("已批准,请发布") and not HALF_WIDTH_BESIDE_CJK.search("已批准，请发布")


def test_the_glossary_names_every_forbidden_term():
    glossary = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    for word in ("sev2", "ack", "nudge", "vet", "approval latency", "time to assemble", "Content lead", "CST", "0 min late"):
        assert f"`{word}`" in glossary, word
