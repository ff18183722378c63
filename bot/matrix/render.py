"""Neutral markup as Matrix events: `org.matrix.custom.html` with every user text escaped, and a plain `body`.

Matrix has no buttons: each button becomes the command to type (`!crisis …`), as the console shows it. Team members
named as `@key` become matrix.to pills (and intentional mentions, so they are notified); nothing else is linked.
"""

import html
import re
from collections.abc import Mapping

from handlers.text.markup import VERBATIM, Message

PREFIX = "!crisis"  # Matrix clients keep `/` for their own commands
FORMAT = "org.matrix.custom.html"
# `@key`, but not the start of a full Matrix id (`@dave:partner.example` is someone else than the team's dave)
_AT = re.compile(r"(?<![\w@])@([\w.-]+)(?![\w.-]*:[A-Za-z0-9\[])")
_SLASH = re.compile(r"(?<![\w/!])/crisis\b")  # the domain's words say `/crisis`, which Matrix clients keep for themselves


def command_text(command: str, prompt: str = "") -> str:
    """A button's command as a person types it."""
    return f"{PREFIX} {command}" + (f" <{prompt}>" if prompt else "")


def typed(text: str) -> str:
    """The domain's `/crisis …` as typed on Matrix: `!crisis …`."""
    return _SLASH.sub(PREFIX, text)


def plain(message: Message) -> str:
    """The body every client can show: the text as written, then the commands to type."""
    body = "".join(span.text if span.style == VERBATIM else typed(span.text) for span in message.spans)
    for button in message.buttons:
        body += f"\n• {button.label}: {command_text(button.command, button.prompt)}"
    return body


def to_html(message: Message, pills: Mapping[str, str] | None = None) -> tuple[str, list[str]]:
    """The formatted body, and the Matrix ids it mentions; **bold** → <strong>, `code` → <code>, the rest escaped."""
    pills = pills or {}
    mentioned: list[str] = []
    parts = []
    for span in message.spans:
        if not span.text:
            continue
        if span.style == "code":
            body = f"<code>{_escape(typed(span.text))}</code>" if span.text.strip() else _escape(span.text)
        elif span.style == VERBATIM:  # a statement's words: exactly as published, never linked or styled
            body = _escape(span.text)
        else:
            body = _with_pills(typed(span.text), pills, mentioned)
            if span.style == "b" and span.text.strip():
                body = f"<strong>{body}</strong>"
        parts.append(body)
    for button in message.buttons:
        label, shown = _escape(button.label), _escape(command_text(button.command, button.prompt))
        parts.append(f"<br>• {label}: <code>{shown}</code>")
    return "".join(parts), mentioned


def content(message: Message, pills: Mapping[str, str] | None = None, msgtype: str = "m.text") -> dict:
    """An `m.room.message` content: plain body, HTML body, and the people it mentions."""
    formatted, mentioned = to_html(message, pills)
    return {
        "msgtype": msgtype,
        "body": plain(message),
        "format": FORMAT,
        "formatted_body": formatted,
        "m.mentions": {"user_ids": mentioned} if mentioned else {},
    }


def exact(text: str) -> dict:
    """A publication: the approved text as the plain body, no format: every character as approved; mentions none, so an
    "@room" in the text does not ping the whole room."""
    return {"msgtype": "m.text", "body": text, "m.mentions": {}}


def replacement(event_id: str, new: dict) -> dict:
    """An edit in place (`m.replace`): clients that know edits show `m.new_content`; the others see the `* ` fallback."""
    fallback = {**new, "body": f"* {new['body']}"}
    if "formatted_body" in new:
        fallback["formatted_body"] = f"* {new['formatted_body']}"
    return {**fallback, "m.new_content": new, "m.relates_to": {"rel_type": "m.replace", "event_id": event_id}}


def pill(user_id: str, shown: str) -> str:
    """A link to a Matrix user that clients show as a pill."""
    return f'<a href="https://matrix.to/#/{html.escape(user_id, quote=True)}">{_escape(shown)}</a>'


def _escape(text: str) -> str:
    """HTML-escaped, line breaks as <br> (HTML would fold them into spaces)."""
    return html.escape(text, quote=False).replace("\n", "<br>")


def _with_pills(text: str, pills: Mapping[str, str], mentioned: list[str]) -> str:
    """Escaped text where each `@key` of a team member with a Matrix id is a pill."""
    parts, last = [], 0
    for match in _AT.finditer(text):
        key = match.group(1)
        if key not in pills:
            key = key.rstrip(".-")  # "@alice." at the end of a sentence
        if key not in pills:
            continue
        end = match.start() + 1 + len(key)
        parts.append(_escape(text[last : match.start()]))
        parts.append(pill(pills[key], f"@{key}"))
        if pills[key] not in mentioned:
            mentioned.append(pills[key])
        last = end
    parts.append(_escape(text[last:]))
    return "".join(parts)
