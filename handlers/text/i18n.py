"""Translations: every user-facing text goes through `_`, in the team's language."""

import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = Path(__file__).resolve().parent.parent.parent / "config" / "locales"
_ENGLISH = gettext.NullTranslations()
_current: ContextVar[gettext.NullTranslations | None] = ContextVar("translations", default=None)
_language: ContextVar[str] = ContextVar("language", default="en")


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalog of a language, compiled from its .po file once per process."""
    po_file = LOCALES / language / "LC_MESSAGES" / "onevoice.po"
    if language == "en" or not po_file.exists():
        return gettext.NullTranslations()
    with po_file.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Make `_` answer in this language for the duration of the block."""
    token, spoken = _current.set(translations(language)), _language.set(language)
    try:
        yield
    finally:
        _current.reset(token)
        _language.reset(spoken)


def language() -> str:
    """The language `_` answers in now (for Babel's locale-aware formats)."""
    return _language.get()


def _(message: str) -> str:
    """Translate a message into the current language."""
    return (_current.get() or _ENGLISH).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """Translate a message that depends on a count."""
    return (_current.get() or _ENGLISH).ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Mark a message for translation without translating it yet."""
    return message
