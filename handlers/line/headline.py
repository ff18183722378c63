"""The public headline of a version (PRODUCT.md §4); never the internal incident title."""

from config.model import Config
from handlers.line import vetting
from handlers.text.i18n import _
from handlers.text.markup import Message, fmt
from storage.models import Statement

HEADLINE_MAX = 120  # a page title, a feed entry, an e-mail subject: longer is a sentence, not a headline
SEPARATOR = "|"
FULL_WIDTH = "\uff5c"  # ｜


def headline_of(statement: Statement, config: Config) -> str:
    """The public headline approved with this version (never the internal incident title)."""
    return statement.headline or default_headline(config)


def mail_subject(statement: Statement, config: Config) -> str:
    """The e-mail subject: the version's public headline on one line (a header cannot break), else its first line."""
    headline = " ".join(headline_of(statement, config).split())
    return headline or " ".join(statement.text.strip().split("\n", 1)[0].split())[:HEADLINE_MAX]


def default_headline(config: Config) -> str:
    """The team's `statement_headline`, for a draft that gives none."""
    return config.statement_headline.get(config.language).strip()


def split_headline(words: str) -> tuple[str | None, str]:
    """`Recall of lot 7 | We are recalling…` → the headline and the text; a text without one → None and the text, whole.

    Only a `|` on the first line, at most HEADLINE_MAX characters in, ends a headline: a bar further into the
    statement (a table, a list of numbers) is part of the text, which stays whole."""
    first_line = words.split("\n", 1)[0].replace(FULL_WIDTH, SEPARATOR)  # a Chinese input method types ｜: the same bar
    head, bar, _rest = first_line.partition(SEPARATOR)
    if not bar or len(head.strip()) > HEADLINE_MAX:
        return None, words
    text = words[len(head) + len(bar) :].strip()
    return head.strip() or None, text


def headline_findings(statement: Statement, config: Config) -> list[vetting.Finding]:
    """What vetting questions in a version's own headline (public words too): its phrases, not the parts a text needs."""
    if not statement.headline:
        return []
    found = vetting.vet(statement.headline, config.vet.values(), kind=statement.kind)
    return [finding for finding in found if finding.quote and finding.rule not in ("length", "consistency")]


def headline_line(headline: str) -> Message:
    """How `line`, `history` and the approval request show a version's public headline."""
    return fmt(_("Public headline: **{headline}**"), headline=headline)
