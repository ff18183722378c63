"""Vet a proposed statement with deterministic rules (PRODUCT.md §4): each finding names the words that caused it.

The rules are data (config/defaults/vet/*.yaml). Every language's rules apply to
every text, so mixed texts need no language detection. Which parts a text must
contain depends on its kind (handlers/line/kinds.py).
"""

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from config.model import VetRules
from handlers.core.cleaning import quoted
from handlers.line.facts import LATIN_WORD, compiled, extract_facts, normalise, unapproved_facts
from handlers.line.kinds import LATER, REQUIRED, sentences
from handlers.line.normalise import ascii_folded, facts_form, has_blanks, vetting_form
from handlers.text.i18n import N_, _, ngettext
from handlers.text.markup import Message, fmt, lines, verbatim

FORBIDDEN = ("speculation", "no_comment", "blame", "hollow_apology")  # each match is a finding
REBUTTAL = ("fact_first", "claim_repeated")
MISSING = ("empathy", "confirmed_facts", "unknowns", "next_update", "commitment", "learn_more")  # a part the kind needs
# The six parts of a first message (PRODUCT.md §4), in the order a holding statement is read against them.
HOLDING_PARTS = MISSING
_FIGURES = ("number", "date", "time", "amount", "percent")  # facts that make a clause a confirmed fact
RULE_ORDER = (*REBUTTAL, *FORBIDDEN, "length", "consistency", *MISSING)
QUOTE_LENGTH = 30  # how much of the text beyond a limit is quoted
_CLAUSE = re.compile(r"[,;，；、]")
_WORD_CUT = re.compile(f"(?<=[{LATIN_WORD}])[{LATIN_WORD}]+")

_LINES = {
    "speculation": N_("• Speculation: “{quote}”"),
    "no_comment": N_("• “No comment”: “{quote}”"),
    "blame": N_("• Blame-shifting: “{quote}”"),
    "hollow_apology": N_("• Hollow apology: “{quote}”"),
    "fact_first": N_("• A rebuttal states the fact first; this one opens with the claim: “{quote}”"),
    "claim_repeated": N_("• The false claim is repeated: “{quote}”"),
    "empathy": N_("• Missing empathy: no words such as “sorry” or “we understand”"),
    "next_update": N_("• No next update or where to learn more"),
    "learn_more": N_("• No place to learn more (a hotline, a support page, a status page)"),
    "unknowns": N_("• Nothing says what is not yet known"),
    "confirmed_facts": N_("• No confirmed facts: say what is known (what happened, where, when, how many)"),
    "commitment": N_("• No commitment: say what you will do for the people affected"),
    "consistency": N_("• Not in the approved line ({kind}): “{quote}”"),
}
_WHEN = N_("• No time for the next update")
_FACT_KINDS = {
    "number": N_("number"),
    "date": N_("date"),
    "time": N_("time"),
    "amount": N_("amount"),
    "percent": N_("percentage"),
    "entity": N_("name"),
}


@dataclass(frozen=True)
class Finding:
    """One thing a communications lead would question in a draft, with the words that caused it."""

    rule: str  # one of RULE_ORDER
    quote: str  # the exact words of the text; "" for a missing empathy / next update
    detail: str = ""  # "length": the target name; "consistency": the fact kind
    size: int = field(default=0, compare=False)  # "length": the text's length in characters, for the message


@dataclass(frozen=True)
class _Placed:
    position: int
    finding: Finding


def vet(
    text: str,
    rules: Iterable[VetRules],
    approved: str | None = None,
    limits: Mapping[str, int] | None = None,
    kind: str | None = None,
) -> list[Finding]:
    """All findings for a proposed text of a kind (default `update`): phrases, the parts its kind needs, length, facts."""
    rules = list(rules)
    kind = kind if kind in REQUIRED else LATER
    # Read NFKC, without invisible characters, look-alike letters folded and in Simplified characters; quoted as written.
    seen, origin = vetting_form(text)
    placed = [*_phrase_findings(seen, rules, text, origin), *_length_findings(text, limits or {})]
    if has_blanks(text):  # a blank letter is drawn as a space inside a phrase, or as nothing inside a word: read both ways
        spaced, spaced_origin = vetting_form(text, blanks_as_spaces=True)
        placed += _phrase_findings(spaced, rules, text, spaced_origin)
    if (folded := ascii_folded(seen)) is not None:  # probabIy, pr0bably: the letters they are drawn as
        placed += _phrase_findings(folded, rules, text, origin)
    if kind == "rebuttal":
        placed += _rebuttal_findings(seen, rules, text, origin)
    if approved is not None:
        # Facts are read with the spaces and line breaks as written: they end sentences and list numbers.
        facts_seen, facts_origin = facts_form(text)
        placed += [
            _Placed(facts_origin[f.start], Finding("consistency", quoted(text, facts_origin, f.start, f.end), f.kind))
            for f in unapproved_facts(facts_seen, facts_form(approved)[0], rules)
        ]
    placed.sort(key=lambda p: (p.position, RULE_ORDER.index(p.finding.rule)))
    findings = [p.finding for p in placed]
    findings += [_missing(rule, kind) for rule in _required(kind) if not _has_part(seen, rules, rule, kind)]
    return _without_repeats(findings)


def _required(kind: str) -> tuple[str, ...]:
    """The parts a text of the kind must show: a holding statement all six parts of a first message."""
    return HOLDING_PARTS if kind == "holding" else tuple(rule for rule in MISSING if rule in REQUIRED[kind])


def _missing(rule: str, kind: str) -> Finding:
    """The finding for a part the text lacks; a holding statement's missing next update is a missing *time*."""
    return Finding(rule, "", "when" if rule == "next_update" and kind == "holding" else "")


def _has_part(seen: str, rules: list[VetRules], rule: str, kind: str) -> bool:
    """Whether the text shows a part its kind needs."""
    if rule == "empathy":
        # A hollow apology is not empathy: no word of a sentence that makes one counts ("若造成不便，深感遗憾，敬请见谅").
        hollow = [span for span in sentences(seen) if _any_phrase(seen[span[0] : span[1]], rules, "hollow_apology")]
        return any(all(end <= a or start >= b for a, b in hollow) for start, end in (m.span() for m in _matches(seen, rules, "empathy")))
    if rule == "confirmed_facts":
        # Matched once in the whole text, then placed in clauses: a clause with a guess, a promise or a hotline states no fact.
        blocking = [m.span() for rule in ("speculation", "hedges", "next_update", "learn_more") for m in _matches(seen, rules, rule)]
        stating = [m.span() for m in _matches(seen, rules, "confirmed")]
        stating += [(f.start, f.end) for f in extract_facts(seen, rules, names=False) if f.kind in _FIGURES]
        return any(
            any(start <= a < end for a, _b in stating) and not any(start <= a < end for a, _b in blocking)
            for start, end in _all_clauses(seen)
        )
    if rule == "next_update" and kind == "holding":
        # When: a promise and a time in one sentence ("we will give a further update at 19:00").
        return any(
            _any_phrase(seen[start:end], rules, "next_update") and _any_phrase(seen[start:end], rules, "update_timing")
            for start, end in sentences(seen)
        )
    if rule == "next_update":
        return _any_phrase(seen, rules, "next_update") or _any_phrase(seen, rules, "learn_more")
    return _any_phrase(seen, rules, rule)


def _all_clauses(text: str) -> Iterator[tuple[int, int]]:
    """Every clause of every sentence."""
    for start, end in sentences(text):
        yield from _clauses(text, start, end)


def _rebuttal_findings(seen: str, rules: list[VetRules], text: str, origin: list[int]) -> list[_Placed]:
    """A rebuttal that opens with the claim, and each report of the claim after the first (one a clause at most)."""
    reporting = []
    for start, end in sentences(seen):
        for clause_start, clause_end in _clauses(seen, start, end):
            match = next(_matches(seen[clause_start:clause_end], rules, "claim_markers"), None)
            if match:
                reporting.append((start, clause_start + match.start(), clause_start + match.end()))
    placed = []
    first = next(sentences(seen), None)
    if reporting and first and reporting[0][0] == first[0]:
        _sentence, start, end = reporting[0]
        placed.append(_Placed(origin[start], Finding("fact_first", quoted(text, origin, start, end))))
    placed += [_Placed(origin[start], Finding("claim_repeated", quoted(text, origin, start, end))) for _s, start, end in reporting[1:]]
    return placed


def render_findings(findings: list[Finding], limits: Mapping[str, int] | None = None) -> Message:
    """The findings as a neutral message for the chat, one line each, translated."""
    if not findings:
        return fmt(_("✅ Wording check: nothing to flag."))
    count = len(findings)
    words = ngettext("🔎 **Wording check: {count} thing to look at**", "🔎 **Wording check: {count} things to look at**", count)
    header = fmt(words, count=count)
    return lines(header, *(_finding_line(finding, limits or {}) for finding in findings))


def _phrase(pattern: str, whole_words: bool) -> re.Pattern[str]:
    """A rule phrase as a compiled pattern, standing as whole words when its language separates words."""
    if not whole_words:
        return compiled(pattern)
    return compiled(f"(?<![{LATIN_WORD}])(?:{pattern})(?![{LATIN_WORD}])")


def _matches(text: str, rules: list[VetRules], rule: str) -> Iterator[re.Match[str]]:
    """Every match in the text of a phrase of the rule, in every language."""
    for ruleset in rules:
        for pattern in getattr(ruleset, rule):
            yield from _phrase(pattern, ruleset.whole_words).finditer(text)


def _phrase_findings(seen: str, rules: list[VetRules], text: str, origin: list[int]) -> list[_Placed]:
    """A finding for each forbidden phrase in the matching form, the longest where phrases overlap, quoted from the text."""
    placed = []
    for rule in FORBIDDEN:
        spans = _longest_first([match.span() for match in _matches(seen, rules, rule)])
        placed += [_Placed(origin[start], Finding(rule, quoted(text, origin, start, end))) for start, end in spans if start < end]
    return placed


def _clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The clauses of a sentence: "有网友称…，还有网友称…" reports a claim twice."""
    cuts = [start, *(start + m.end() for m in _CLAUSE.finditer(text[start:end])), end]
    return [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if a < b]


def _longest_first(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans that do not overlap a longer one (the first of equals)."""
    kept: list[tuple[int, int]] = []
    for start, end in sorted(set(spans), key=lambda span: (span[0] - span[1], span[0])):
        if start < end and all(end <= other_start or start >= other_end for other_start, other_end in kept):
            kept.append((start, end))
    return kept


def _any_phrase(text: str, rules: list[VetRules], rule: str) -> bool:
    """Whether a phrase of the rule, in any language, appears in the text."""
    return next(_matches(text, rules, rule), None) is not None


def _length_findings(text: str, limits: Mapping[str, int]) -> list[_Placed]:
    """A finding for each target whose character limit the text exceeds, quoting the words beyond it."""
    return [
        _Placed(limit, Finding("length", _beyond(text, limit), target, len(text))) for target, limit in limits.items() if len(text) > limit
    ]


def _beyond(text: str, limit: int) -> str:
    """About the first QUOTE_LENGTH characters past the limit, finishing a word the cut would split."""
    end = limit + QUOTE_LENGTH
    rest = _WORD_CUT.match(text, end)
    return text[limit : rest.end() if rest else end].strip()


def _without_repeats(findings: list[Finding]) -> list[Finding]:
    """The findings without a second one for the same rule, target or fact kind, and words."""
    seen: set[tuple[str, str, str]] = set()
    unique = []
    for finding in findings:
        key = (finding.rule, finding.detail, normalise(finding.quote))
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique


def _finding_line(finding: Finding, limits: Mapping[str, int]) -> Message:
    """One line of the findings message."""
    if finding.rule == "length":
        return _length_line(finding, limits.get(finding.detail))
    if finding.rule == "next_update" and finding.detail == "when":
        return fmt(_(_WHEN))
    if finding.rule == "consistency":
        kind = _FACT_KINDS.get(finding.detail)
        return fmt(_(_LINES["consistency"]), kind=_(kind) if kind else finding.detail, quote=verbatim(finding.quote))
    if finding.rule in _LINES:
        return fmt(_(_LINES[finding.rule]), quote=verbatim(finding.quote))
    return fmt(_("• {rule}: “{quote}”"), rule=finding.rule, quote=verbatim(finding.quote))


def _length_line(finding: Finding, limit: int | None) -> Message:
    """The line for an over-length text: how long it is, the limit, and where it overflows."""
    if limit and finding.size:
        template = _("• Too long for {target}: {size} characters, the limit is {limit} (beyond it: “{quote}”)")
        return fmt(template, target=finding.detail, size=f"{finding.size:,}", limit=f"{limit:,}", quote=verbatim(finding.quote))
    return fmt(_("• Too long for {target} (beyond it: “{quote}”)"), target=finding.detail, quote=verbatim(finding.quote))
