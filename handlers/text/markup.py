"""Neutral markup: messages as styled spans that each adapter renders its own way.

Markup comes only from our own templates; every value filled in is user text
and stays a plain span, so no adapter ever mistakes user text for markup.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

_MARKERS = re.compile(r"(\*\*|`)")
_FIELD = re.compile(r"\{(\w+)\}")


VERBATIM = "verbatim"  # a statement's words: shown exactly as they will be published, no platform formatting applied


class Span(NamedTuple):
    """A run of text with one style: '' plain, 'b' bold, 'code' monospace, VERBATIM as published."""

    # A named tuple, not a frozen dataclass: as immutable, and built several times faster (a card is ~50 of them, built
    # while the person who typed the command waits).

    text: str
    style: str = ""


@dataclass(frozen=True)
class Button:
    """An action offered under a message; it runs a command as if the clicker typed it."""

    label: str
    command: str
    style: str = ""
    prompt: str = ""  # when set, the platform asks for more text (e.g. a reason) and appends it to the command


@dataclass
class Message:
    """A message: spans in order, and buttons under it."""

    spans: list[Span] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)

    def plain(self) -> str:
        """The text without styles."""
        return "".join(span.text for span in self.spans)

    def __add__(self, other: "Message") -> "Message":
        return Message(self.spans + other.spans, self.buttons + other.buttons)

    def to_json(self) -> dict:
        """A JSON-able form for the outbox."""
        return {
            "spans": [[s.style, s.text] for s in self.spans],
            "buttons": [[b.label, b.command, b.style, b.prompt] for b in self.buttons],
        }

    @classmethod
    def from_json(cls, data: dict) -> "Message":
        """Rebuild a message stored by to_json."""
        return cls(
            [Span(text, style) for style, text in data.get("spans", [])],
            [Button(*b) for b in data.get("buttons", [])],
        )


def render(message: Message, escape: Callable[[str], str], styles: dict[str, str]) -> str:
    """The spans in a platform's markup: each text escaped, then wrapped as `styles[style]` ("*{}*") says."""
    parts = []
    for span in message.spans:
        body = escape(span.text)
        wrap = styles.get(span.style)
        parts.append(wrap.format(body) if wrap and body.strip() else body)
    return "".join(parts)


def static(template: str) -> Message:
    """A template with markup and no fields to fill (braces stay as they are)."""
    return Message(list(_static(template)))


@lru_cache(maxsize=4096)
def _static(template: str) -> tuple[Span, ...]:
    """A template without fields as spans, parsed once (spans are immutable: every message may share them)."""
    return tuple(_parse(template, None).spans)


def fmt(template: str, **values: object) -> Message:
    """Fill a template: **bold** and `code` in the template are markup; values stay text (a Message value keeps its spans)."""
    return _parse(template, values)


def _parse(template: str, values: dict | None) -> Message:
    spans: list[Span] = []
    fields = values or {}
    for style, pieces in _template(template, values is not None):
        for i, piece in enumerate(pieces):
            if not i % 2:
                if piece:
                    spans.append(Span(piece, style))
                continue
            value = fields[piece]
            if isinstance(value, Message):
                spans.extend(value.spans)  # e.g. a verbatim() quote keeps its own style
            elif value := str(value):
                spans.append(Span(value, style))
    return Message(_merge(spans))


@lru_cache(maxsize=4096)
def _template(template: str, fields: bool) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A template split once into its styled runs, each as text and field names alternating (even: text, odd: a field):
    the same few hundred templates are filled for every message."""
    runs = []
    style = ""
    for part in _MARKERS.split(template):
        if part == "**":
            style = "" if style == "b" else "b"
        elif part == "`":
            style = "" if style == "code" else "code"
        else:
            runs.append((style, tuple(_FIELD.split(part)) if fields else (part,)))
    return tuple(runs)


def text(value: str) -> Message:
    """A message of plain text."""
    return Message([Span(value)]) if value else Message()


def verbatim(value: str) -> Message:
    """Text that must look exactly as it will be published (a draft, the line): never read as platform formatting."""
    return Message([Span(value, VERBATIM)]) if value else Message()


def lines(*messages: Message) -> Message:
    """Join messages with newlines, skipping empty ones."""
    spans: list[Span] = []
    buttons: list[Button] = []
    for message in messages:
        if spans and message.spans:
            spans.append(_NEWLINE)
        spans += message.spans
        buttons += message.buttons
    return Message(_merge(spans), buttons)


_NEWLINE = Span("\n")


def _merge(spans: list[Span]) -> list[Span]:
    """Neighbours of one style joined into one span."""
    if len(spans) < 2:
        return spans
    merged = [spans[0]]
    for span in spans[1:]:
        last = merged[-1]
        if last.style == span.style:
            merged[-1] = Span(last.text + span.text, last.style)
        else:
            merged.append(span)
    return merged
