"""Neutral markup as Telegram HTML: styles become tags, user text is escaped, long messages split cleanly."""

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.text.markup import Message, render

LIMIT = 4096  # characters of one Telegram message
CALLBACK_LIMIT = 64  # bytes of callback_data
PROMPT_MARK = "↩"  # starts the bot's question whose reply (by the one it names) completes a command


def to_html(message: Message) -> str:
    """The spans as HTML: **bold** → <b>, `code` → <code>, everything else escaped."""
    return render(message, lambda text: html.escape(text, quote=False), {"b": "<b>{}</b>", "code": "<code>{}</code>"})


def keyboard(message: Message) -> InlineKeyboardMarkup | None:
    """Buttons two to a row; their data is the command (short ids only: a longer one stays as typed text)."""
    buttons = [
        InlineKeyboardButton(b.label[:64], callback_data=_data(b.command, b.prompt))
        for b in message.buttons
        if len(_data(b.command, b.prompt).encode()) <= CALLBACK_LIMIT
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return InlineKeyboardMarkup(rows) if rows else None


def question_html(template: str, name: str, user_id: int, verb: str, incident_id: int | None) -> str:
    """A question for one person: a mention of them (so only they are asked to reply) and the verb and incident the
    domain vetted; never a word of the callback data that asked for it."""
    mention = f'<a href="tg://user?id={int(user_id)}">{html.escape(name, quote=False)}</a>'
    where = "" if incident_id is None else f"#{int(incident_id)}"
    parts = [html.escape(part, quote=False).format(verb=f"<code>{html.escape(verb)}</code>", id=where) for part in template.split("{name}")]
    return f"{PROMPT_MARK} " + mention.join(parts)


def _data(command: str, prompt: str) -> str:
    return f"?{command}" if prompt else command  # "?" asks for more words before running


def split(text: str, limit: int = LIMIT) -> list[str]:
    """Pieces no longer than the limit, cut at line ends (then spaces) and never inside an HTML tag or entity."""
    pieces = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut <= 0:
            cut = text.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        cut = _outside_markup(text, cut)
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*pieces, text] if text else pieces


def _outside_markup(text: str, cut: int) -> int:
    """Move a cut back before an open tag or entity; a styled run is closed and reopened by the caller's spans."""
    opening, amp = text.rfind("<", 0, cut), text.rfind("&", 0, cut)
    if opening > text.rfind(">", 0, cut):
        cut = opening
    if amp > text.rfind(";", 0, cut):
        cut = amp
    tag = text.rfind("<b>", 0, cut)
    if tag > text.rfind("</b>", 0, cut):
        cut = tag  # never leave a bold run open across messages
    code = text.rfind("<code>", 0, cut)
    if code > text.rfind("</code>", 0, cut):
        cut = code
    return max(cut, 1)
