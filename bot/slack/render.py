"""Neutral markup as Slack mrkdwn and Block Kit; user text escaped so it is never read as markup."""

import html

from handlers.text.markup import VERBATIM, Button, Message, render

SECTION_LIMIT = 3000  # a section block's text
BUTTON_VALUE_LIMIT = 2000
TOPIC_LIMIT = 250  # characters of conversations.setTopic
RICH_TEXT_PIECE = 1000  # characters of one rich text element, well inside what Slack accepts
ACTION_PREFIX = "ov:"  # action ids of our buttons: "ov:<n>"


def escape(text: str) -> str:
    """Slack's three escapes: `<!channel>`, `<@U…>` and links cannot be smuggled in by user text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def topic(text: str, limit: int = TOPIC_LIMIT) -> str:
    """A channel topic: escaped like any user text (a title must not ping <!channel> or link), within Slack's limit."""
    pieces, size = [], 0
    for char in text:  # cut the text, not its escapes: never a dangling "&am"
        piece = escape(char)
        if size + len(piece) > limit:
            break
        pieces.append(piece)
        size += len(piece)
    return "".join(pieces)


def unescape(text: str) -> str:
    """What the user typed, from Slack's escaped slash-command text (mentions like `<@U1|bob>` stay as they are)."""
    return html.unescape(text) if "&" in text else text


def mrkdwn(message: Message) -> str:
    """The spans as mrkdwn: **bold** → *bold*, `code` → `code`, everything escaped."""
    return render(message, escape, {"b": "*{}*", "code": "`{}`"})


def blocks(message: Message, text: str | None = None) -> list[dict]:
    """Sections for the text (split at Slack's limit), or rich text when it quotes a statement; one actions block for the
    buttons (`text`: the message's mrkdwn, when the caller rendered it already)."""
    if any(span.style == VERBATIM for span in message.spans):
        result = [rich_text(message)]
    else:
        sections = _chunks(mrkdwn(message) if text is None else text)
        result = [{"type": "section", "text": {"type": "mrkdwn", "text": chunk}} for chunk in sections]
    if message.buttons:
        result.append({"type": "actions", "elements": [_button(i, b) for i, b in enumerate(message.buttons[:25])]})
    return result


def rich_text(message: Message) -> dict:
    """A rich text block: each span a text element styled by flags only, never parsed for mrkdwn or mentions."""
    # mrkdwn cannot escape `*`, `_`, `~` or backticks; in rich text a statement's characters stay exactly as typed.
    styles = {"b": {"bold": True}, "code": {"code": True}}
    elements = []
    for span in message.spans:
        for start in range(0, len(span.text), RICH_TEXT_PIECE):  # long text elements are refused (msg_blocks_too_long)
            element = {"type": "text", "text": span.text[start : start + RICH_TEXT_PIECE]}
            if span.style in styles:
                element["style"] = styles[span.style]
            elements.append(element)
    return {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": elements}]}


def _button(index: int, button: Button) -> dict:
    element = {
        "type": "button",
        "action_id": f"{ACTION_PREFIX}{index}",
        "text": {"type": "plain_text", "text": button.label[:75], "emoji": True},
        "value": f"{button.command}\n{button.prompt}"[:BUTTON_VALUE_LIMIT] if button.prompt else button.command[:BUTTON_VALUE_LIMIT],
    }
    if button.style in ("primary", "danger"):
        element["style"] = button.style
    return element


def _chunks(text: str) -> list[str]:
    """Pieces under the section limit, cut at line ends where possible."""
    pieces = []
    while len(text) > SECTION_LIMIT:
        cut = text.rfind("\n", 0, SECTION_LIMIT)
        cut = cut if cut > 0 else SECTION_LIMIT
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*pieces, text] if text else pieces or [" "]


def button_command(value: str) -> tuple[str, str]:
    """A button's value back into (command, prompt)."""
    command, _sep, prompt = value.partition("\n")
    return command, prompt
