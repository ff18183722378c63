"""Everything a user sees exists in English and Chinese."""

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from handlers.text.i18n import LOCALES, _, speaking

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def _code_messages() -> set[str]:
    found = set()
    for package in ("bot", "handlers", "config"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def _zh_catalog() -> dict[str, str]:
    with open(LOCALES / "zh" / "LC_MESSAGES" / "onevoice.po", "rb") as handle:
        messages = [m for m in read_po(handle) if m.id]
    # A plural message is keyed by its singular; Chinese has one form, so that form is its translation.
    return {
        m.id if isinstance(m.id, str) else m.id[0]: m.string if isinstance(m.string, str) else (m.string[0] if all(m.string) else "")
        for m in messages
    }


def test_every_message_in_the_code_has_a_chinese_translation():
    catalog = _zh_catalog()
    missing = sorted(m for m in _code_messages() if not catalog.get(m))
    assert missing == [], f"{len(missing)} messages lack a zh translation (run pybabel extract/update): {missing[:5]}"


def test_translations_keep_placeholders_and_markup():
    for msgid, msgstr in _zh_catalog().items():
        if not msgstr:
            continue
        assert set(re.findall(r"\{\w+\}", msgid)) == set(re.findall(r"\{\w+\}", msgstr)), msgid
        assert msgid.count("**") == msgstr.count("**"), msgid


def test_the_bot_speaks_chinese_when_told():
    with speaking("zh"):
        assert _("Roles:") != "Roles:"
    with speaking("en"):
        assert _("Roles:") == "Roles:"
