"""Parts of the fake Telegram (telegram_api.py): Telegram's HTML parse mode and inline keyboard checks, the message
objects it holds, the state queries, and the updates it sends to the bot (commands, button presses, replies)."""

from __future__ import annotations

import copy
import itertools
import json
import re
import time
from typing import Any

import aiohttp

TAGS = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline", "s": "strikethrough"}
TAGS |= {"strike": "strikethrough", "del": "strikethrough", "code": "code", "pre": "pre", "a": "text_link", "blockquote": "blockquote"}
TAGS |= {"tg-spoiler": "spoiler", "span": "spoiler"}
ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
ATTR = re.compile(r"""\s*(?:(>)|([^\s=>]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>"']+))?)""")
AUTO = re.compile(r"(?<![\w/@])(?:(/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{5,32})?)|(@[A-Za-z0-9_]{5,32}))(?![\w@])")
BUTTON_ACTIONS = {"callback_data", "url", "login_url", "web_app", "switch_inline_query", "switch_inline_query_current_chat", "pay"}
BUTTON_ACTIONS |= {"switch_inline_query_chosen_chat", "copy_text", "callback_game"}
TEXT_BUTTON = "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"


class TelegramError(Exception):
    """A `{"ok": false, "error_code": status, "description": ...}` answer of the Bot API."""

    def __init__(self, status: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters


class HtmlError(ValueError):
    """Markup Telegram refuses ("can't parse entities: …"), in Telegram's words, with byte offsets."""


def utf16_len(text: str) -> int:
    """Telegram measures entity offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _unescape(match: re.Match) -> str:
    code = match.group(1)
    if code in NAMED:
        return NAMED[code]
    number = int(code[2:], 16) if code[1] in "xX" else int(code[1:])
    return chr(number) if 0 < number <= 0x10FFFF and not 0xD800 <= number <= 0xDFFF else match.group(0)


def parse_html(text: str) -> tuple[str, list[dict]]:
    """Telegram's HTML parse mode (as tdlib parses it): the text a user reads and its entities; HtmlError when refused."""
    out, stack, entities = [], [], []  # stack: [tag, attributes, utf-16 offset where it opened]
    i = pos = 0
    while i < len(text):
        at = len(text[:i].encode())
        if text[i] != "<":
            match = ENTITY.match(text, i) if text[i] == "&" else None
            end = i + 1 if text[i] == "&" else min((j for j in (text.find("<", i), text.find("&", i)) if j >= 0), default=len(text))
            chunk, i = (_unescape(match), match.end()) if match else (text[i:end], end)  # a lone & stays, as on Telegram
            out.append(chunk)
            pos += utf16_len(chunk)
        elif text.startswith("</", i):
            if not stack:
                raise HtmlError(f"Unexpected end tag at byte offset {at}")
            match = re.compile(r"</([^\s>]*)\s*(>)?").match(text, i)
            name, i = match.group(1).lower(), match.end()
            if not match.group(2):
                raise HtmlError(f"Unclosed end tag at byte offset {at}")
            tag, attrs, start = stack.pop()
            if name and name != tag:
                raise HtmlError(f'Unmatched end tag at byte offset {at}, expected "</{tag}>", found "</{name}>"')
            kind = "expandable_blockquote" if tag == "blockquote" and "expandable" in attrs else TAGS[tag]
            entity = {"type": kind, "offset": start, "length": pos - start} | ({"url": attrs.get("href")} if tag == "a" else {})
            entity |= {"language": attrs["language"]} if tag == "pre" and "language" in attrs else {}
            if tag == "code" and stack and stack[-1][0] == "pre" and attrs.get("class", "").startswith("language-"):
                stack[-1][1]["language"] = attrs["class"][9:]  # <pre><code class="language-x"> is one pre entity
            elif entity["length"] > 0 and (tag != "a" or attrs.get("href")):
                entities.append(entity)
        else:
            match = re.compile(r"<([^\s>]*)").match(text, i)
            name, j, attrs = match.group(1).lower(), match.end(), {}
            if j >= len(text):
                raise HtmlError(f"Unclosed start tag at byte offset {at}")
            if name not in TAGS:
                raise HtmlError(f'Unsupported start tag "{name}" at byte offset {at}')
            while not (attr := ATTR.match(text, j)) or not attr.group(1):
                if attr is None:
                    raise HtmlError(f"Unclosed start tag at byte offset {at}")
                key, value, j = attr.group(2).lower(), attr.group(3), attr.end()
                if value is None and not (name == "blockquote" and key == "expandable"):
                    raise HtmlError(f'Expected equal sign in declaration of an attribute of the tag "{name}" at byte offset {at}')
                attrs[key] = ENTITY.sub(_unescape, value[1:-1] if value and value[0] in "\"'" else value or "")
            if name == "span" and attrs.get("class") != "tg-spoiler":
                raise HtmlError(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
            stack.append([name, attrs, pos])
            i = attr.end()
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(out), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def html_to_text(text: str) -> str:
    """What a user reads of a parse_mode=HTML text: supported tags stripped, entities unescaped (HtmlError if refused)."""
    return parse_html(text)[0]


# ---- the parameters of a call, as JSON or as a form (PTB sends forms: nested values as JSON strings, numbers as text)


def param_json(value: Any) -> Any:
    try:
        return json.loads(value) if isinstance(value, str) else value
    except json.JSONDecodeError as error:
        raise TelegramError(400, f"Bad Request: can't parse JSON object: {error}") from error


def param_int(value: Any, name: str) -> int | None:
    try:
        return None if value in (None, "") else int(value)
    except (TypeError, ValueError):
        raise TelegramError(400, f"Bad Request: invalid {name} specified") from None


def param_flag(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def content(params: dict) -> tuple[str, str, list]:
    """(text as sent, text as users read it, entities) of a sendMessage / editMessageText, or the error Telegram gives."""
    raw, mode = params.get("text") or "", params.get("parse_mode") or None
    if mode and mode.lower() != "html":
        raise TelegramError(400, f"Bad Request: the fake Telegram parses parse_mode HTML only, not {mode!r}")
    try:
        text, entities = parse_html(raw) if mode else (raw, param_json(params.get("entities")) or [])
    except HtmlError as error:
        raise TelegramError(400, f"Bad Request: can't parse entities: {error}") from None
    if not text.strip():
        raise TelegramError(400, "Bad Request: message text is empty")
    if len(text) > 4096:
        raise TelegramError(400, "Bad Request: message is too long")
    return raw, text, entities


def reply_markup(params: dict) -> dict | None:
    """The reply_markup of a call, with Telegram's checks of an inline keyboard (other markups pass as they are)."""
    markup = param_json(params.get("reply_markup"))
    if markup is not None and not isinstance(markup, dict):
        raise TelegramError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    rows = (markup or {}).get("inline_keyboard", [])
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise TelegramError(400, 'Bad Request: field "inline_keyboard" must be an Array of Array')
    for button in itertools.chain.from_iterable(rows):
        if not isinstance(button, dict) or not button.get("text") or not BUTTON_ACTIONS & button.keys():
            raise TelegramError(400, TEXT_BUTTON)
        if "callback_data" in button and not 1 <= len(str(button["callback_data"]).encode()) <= 64:
            raise TelegramError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


class Updates:
    """State queries, message objects, and the updates Telegram sends (the attributes are set by FakeTelegram.__init__)."""

    def messages_in(self, chat_id: int, thread_id: int | None = None) -> list[dict]:
        """The bot's sendMessage calls to a chat (thread_id None: all of them; else those in that topic)."""
        return [m for m in self.messages if m["chat_id"] == chat_id and (thread_id is None or m["message_thread_id"] == thread_id)]

    def current_text(self, chat_id: int, message_id: int) -> str:
        """The text of a message as last sent or edited (HTML as the bot wrote it; html_to_text gives what users read)."""
        return self._raw[(chat_id, message_id)]

    def current_message(self, chat_id: int, message_id: int) -> dict:
        """The message as Telegram holds it now (text as users read it, entities, inline keyboard)."""
        return copy.deepcopy(self._store[(chat_id, message_id)])

    def add_chat(self, chat_id: int, type: str, title: str = "", *, is_forum: bool = False, username: str | None = None) -> dict:
        """A chat that exists before the bot acts ("supergroup", "channel" or "private")."""
        self.chats[chat_id] = {"id": chat_id, "type": type, "title": title or f"Chat {chat_id}", "is_forum": is_forum, "username": username}
        return self.chats[chat_id]

    def user(self, user_id: int, first_name: str = "", username: str | None = None) -> dict:
        """Register (or update) a user; returns their Telegram User object, e.g. for a text_mention entity."""
        known = self.users.get(user_id, {})
        user = {"id": user_id, "is_bot": False, "first_name": first_name or known.get("first_name") or f"User{user_id}"}
        username = username or known.get("username")
        self.users[user_id] = user | {"language_code": "en"} | ({"username": username} if username else {})
        return dict(self.users[user_id])

    def chat_obj(self, chat: dict) -> dict:
        if chat["type"] == "private":
            user = self.users.get(chat["id"]) or self.user(chat["id"])
            return {"id": chat["id"], "type": "private"} | {k: user[k] for k in ("first_name", "username") if k in user}
        obj = {"id": chat["id"], "type": chat["type"], "title": chat["title"]} | ({"is_forum": True} if chat.get("is_forum") else {})
        return obj | ({"username": chat["username"]} if chat.get("username") else {})

    def bot_user(self) -> dict:
        return {"id": self.bot_id, "is_bot": True, "first_name": "OneVoice", "username": self.bot_username}

    def _topic_root(self, chat: dict, thread_id: int) -> dict:
        """The service message that opened a topic (made up for a topic the fake did not create)."""
        topic = self.topics.get(thread_id, {"name": f"Topic {thread_id}", "icon_color": 7322096})
        root = {"message_id": thread_id, "from": self.bot_user(), "chat": self.chat_obj(chat), "date": int(time.time())}
        made_up = root | {"message_thread_id": thread_id, "is_topic_message": True}
        made_up["forum_topic_created"] = {"name": topic["name"], "icon_color": topic["icon_color"]}
        return self._store.get((chat["id"], thread_id), made_up)

    def message_obj(self, chat: dict, sender: dict | None, text: str | None, entities=(), thread_id=None, reply_to=None, markup=None, **kw):
        """A new message as Telegram holds it (sender None: a channel post); in a forum topic, a message that replies to
        nothing else replies to the topic's opening service message, as on Telegram."""
        message = {"message_id": self.new_message_id(), "date": int(time.time()), "chat": self.chat_obj(chat)}
        message |= {"sender_chat": message["chat"]} if sender is None else {"from": sender}
        if thread_id is not None and chat.get("is_forum"):
            message |= {"message_thread_id": thread_id, "is_topic_message": True}
            reply_to = reply_to or self._topic_root(chat, thread_id)
        message |= {"text": text} if text is not None else {}
        message |= {"entities": sorted(entities, key=lambda e: (e["offset"], -e["length"]))} if entities else {}
        message |= {"reply_to_message": {k: v for k, v in reply_to.items() if k != "reply_to_message"}} if reply_to else {}
        message |= {"reply_markup": {"inline_keyboard": markup["inline_keyboard"]}} if markup and "inline_keyboard" in markup else {}
        self._store[(chat["id"], message["message_id"])] = message | kw
        self._raw[(chat["id"], message["message_id"])] = text
        return self._store[(chat["id"], message["message_id"])]

    # ---- lookups of the methods (telegram_api.py), raising what Telegram answers

    def _chat(self, params: dict, *, send: bool = False) -> dict:
        ref = params.get("chat_id")
        if ref in (None, ""):
            raise TelegramError(400, "Bad Request: chat_id is empty")
        if isinstance(ref, str) and ref.startswith("@"):
            chat = next((c for c in self.chats.values() if c.get("username") and f"@{c['username']}".lower() == ref.lower()), None)
        else:
            chat_id = param_int(ref, "chat_id")
            if chat_id is not None and chat_id > 0 and chat_id not in self.started_bot:
                if send:
                    raise TelegramError(403, "Forbidden: bot can't initiate conversation with a user")
                raise TelegramError(400, "Bad Request: chat not found")
            chat = self.chats.get(chat_id) or (self.add_chat(chat_id, "private") if chat_id > 0 else None)
        if chat is None:
            raise TelegramError(400, "Bad Request: chat not found")
        return chat

    def _topic(self, chat: dict, params: dict) -> dict:
        self._manager(chat)
        topic = self.topics.get(param_int(params.get("message_thread_id"), "message_thread_id"))
        if topic is None or topic["chat_id"] != chat["id"]:
            raise TelegramError(400, "Bad Request: TOPIC_ID_INVALID")
        return topic

    def _manager(self, chat: dict, what: str = "manage topics") -> None:
        if chat["type"] != "supergroup" or not chat.get("is_forum"):
            raise TelegramError(400, "Bad Request: the chat is not a forum")
        if not self.bot_can_manage_topics:
            raise TelegramError(400, f"Bad Request: not enough rights to {what}")

    def _message(self, chat: dict, params: dict, missing: str) -> dict:
        message = self._store.get((chat["id"], param_int(params.get("message_id"), "message_id")))
        if message is None:
            raise TelegramError(400, f"Bad Request: {missing}")
        return message

    # ---- updates

    def _chat_of(self, user_id: int, chat_id: int | None) -> dict:
        chat_id = self.crisis_group if chat_id is None else chat_id
        if chat_id not in self.chats:
            self.add_chat(chat_id, "private" if chat_id > 0 else "supergroup")
        if self.chats[chat_id]["type"] == "private":
            self.started_bot.add(chat_id)  # someone who writes to the bot in private has started it
        return self.chats[chat_id]

    def _user_message(self, user_id: int, text: str, chat_id: int | None, thread_id: int | None, entities, reply_to=None) -> dict:
        given = list(entities or [])
        spans = [(e["offset"], e["offset"] + e["length"]) for e in given]
        for match in AUTO.finditer(text):  # Telegram finds commands and @mentions in what users type
            start = utf16_len(text[: match.start()])
            end = start + utf16_len(match.group(0))
            if not any(a < end and start < b for a, b in spans):
                given.append({"type": "bot_command" if match.group(1) else "mention", "offset": start, "length": end - start})
        chat = self._chat_of(user_id, chat_id)
        return self.message_obj(chat, self.user(user_id), text, given, thread_id, reply_to)

    def command_update(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        thread_id: int | None = None,
        username: str | None = None,
        entities: list | None = None,
    ) -> dict:
        """A user's command: in the crisis group (default), another group, or private (chat_id = user_id); in a topic."""
        if not text.startswith("/"):
            raise ValueError(f"a command starts with '/': {text!r}")
        if username:
            self.user(user_id, username=username)
        command = {"type": "bot_command", "offset": 0, "length": utf16_len(text.split(maxsplit=1)[0])}
        message = self._user_message(user_id, text, chat_id, thread_id, [command, *(entities or [])])
        return {"update_id": next(self._update_ids), "message": message}

    def reply_update(
        self, user_id: int, text: str, reply_to_message_id: int, chat_id: int | None = None, thread_id: int | None = None
    ) -> dict:
        """A user's reply to a message (in its topic unless thread_id says otherwise)."""
        chat_id = self.crisis_group if chat_id is None else chat_id
        replied = self._store.get((chat_id, reply_to_message_id))
        if replied is None:
            raise KeyError(f"no message {reply_to_message_id} in chat {chat_id}")
        thread_id = replied.get("message_thread_id") if thread_id is None else thread_id
        message = self._user_message(user_id, text, chat_id, thread_id, None, reply_to=replied)
        return {"update_id": next(self._update_ids), "message": message}

    def callback_update(
        self, user_id: int, data: str, chat_id: int | None = None, message_id: int | None = None, thread_id: int | None = None
    ) -> dict:
        """A press of an inline button (by default on the bot's last message in the chat, or in the topic)."""
        chat = self._chat_of(user_id, chat_id)
        if message_id is None:
            if not (sent := self.messages_in(chat["id"], thread_id)):
                raise LookupError(f"the bot has sent nothing to chat {chat['id']} (topic {thread_id}) to press a button on")
            message_id = sent[-1]["message_id"]
        message = copy.deepcopy(self._store.get((chat["id"], message_id)))
        if message is None:
            message = {"message_id": message_id, "from": self.bot_user(), "chat": self.chat_obj(chat), "date": int(time.time()), "text": ""}
            message |= {"message_thread_id": thread_id, "is_topic_message": True} if thread_id is not None else {}
        query_id = str(next(self._query_ids))
        self.open_queries.add(query_id)
        query = {"id": query_id, "from": self.user(user_id), "message": message, "chat_instance": str(-chat["id"] * 7 + 11), "data": data}
        return {"update_id": next(self._update_ids), "callback_query": query}

    def edit_update(self, update: dict, text: str) -> dict:
        """The user edits the message of an earlier update (a command or a reply) to `text`: an `edited_message` update."""
        message = copy.deepcopy(update["message"])
        entities = [e for e in message.get("entities", []) if e["type"] not in ("bot_command", "mention")]
        edited = self._user_message(message["from"]["id"], text, message["chat"]["id"], message.get("message_thread_id"), entities)
        self._store.pop((edited["chat"]["id"], edited["message_id"]), None)  # the same message, not a new one
        edited = {k: v for k, v in edited.items() if k not in ("message_id", "date", "reply_to_message")}
        message = {k: v for k, v in message.items() if k not in ("text", "entities")} | edited | {"edit_date": int(time.time())}
        self._store[(message["chat"]["id"], message["message_id"])] = message
        return {"update_id": next(self._update_ids), "edited_message": message}

    def queue_update(self, update: dict) -> None:
        """Hand an update to getUpdates (long polling)."""
        self.pending.append(update)
        self._arrived.set()

    async def deliver_webhook(self, update: dict, secret: str | None = "use-registered") -> int:
        """POST an update to the registered webhook as Telegram does; returns the HTTP status the bot answered."""
        if not self.webhook:
            raise RuntimeError("no webhook registered (setWebhook)")
        secret = self.webhook.get("secret_token") if secret == "use-registered" else secret
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        async with aiohttp.ClientSession() as session, session.post(self.webhook["url"], json=update, headers=headers) as response:
            await response.read()
            self.webhook_deliveries.append((update.get("update_id"), response.status))
            return response.status
