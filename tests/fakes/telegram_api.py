"""A fake Telegram Bot API over real HTTP on loopback: chats, forum topics, messages, pins, commands, webhook,
the getUpdates queue, and faults.

Point python-telegram-bot at it with `Bot(fake.token, base_url=fake.api_base)` (or
`Application.builder().token(fake.token).base_url(fake.api_base)`): PTB calls `{api_base}{token}/{method}`. Build the
updates Telegram sends with `fake.command_update(...)`, `fake.callback_update(...)`, `fake.reply_update(...)`
(telegram_updates.py), then `await fake.deliver_webhook(update)` or `fake.queue_update(update)`.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import random
import time
from typing import Any

from aiohttp import web

from .telegram_updates import TelegramError, Updates, content, html_to_text, param_flag, param_int, param_json, parse_html, reply_markup

__all__ = ["FakeTelegram", "TelegramError", "html_to_text", "parse_html"]

DESCRIPTIONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict"}
DESCRIPTIONS |= {500: "Internal Server Error", 502: "Bad Gateway"}
ICON_COLORS = {7322096, 16766590, 13338331, 9367192, 16749490, 16478047}
RATIO_FAULTS = (429, 500, 429, 502)  # what fail_ratio answers, in turn
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content"
    " and reply markup of the message"
)


class FakeTelegram(Updates):
    """A fake Telegram: the Bot API methods a bot needs, the updates it receives, faults."""

    def __init__(
        self,
        token: str = "123456:TEST-token",
        bot_username: str = "onevoice_bot",
        crisis_group: int = -1001234567890,
        forum: bool = True,
        bot_can_manage_topics: bool = True,
    ):
        self.token, self.bot_username, self.crisis_group = token, bot_username, crisis_group
        self.bot_id, self.bot_can_manage_topics = int(token.split(":", 1)[0]), bot_can_manage_topics
        self.api_base = self.base_url = ""
        self.chats: dict[int, dict] = {}
        self.topics: dict[int, dict] = {}
        self.users: dict[int, dict] = {}
        self.messages: list[dict] = []  # also "plain" (what users read) and "reply_to_message_id"
        self.edits: list[dict] = []
        self.markup_edits: list[dict] = []  # editMessageReplyMarkup calls: {"chat_id","message_id","reply_markup"}
        self.pins: list[tuple[int, int]] = []
        self.callback_answers: list[dict] = []
        self.commands: list[dict] = []
        self.webhook: dict | None = None
        self.webhook_deliveries: list[tuple[int | None, int]] = []  # (update_id, HTTP status the bot answered)
        self.calls: list[tuple[str, dict]] = []
        self.call_times: list[float] = []  # time.monotonic() of each entry of `calls`
        self.internal_errors: list[str] = []  # exceptions raised inside the fake (answered with HTTP 599): should stay empty
        self.started_bot: set[int] = set()
        self.open_queries: set[str] = set()  # callback query ids not yet answered
        self.pending: list[dict] = []  # the getUpdates queue: handed out again on every call until an offset confirms them
        self.confirmed = 0  # the highest offset getUpdates was given: every update below it is acknowledged
        self.poll_cap = 1.0  # getUpdates waits at most this long, whatever `timeout` says
        self.fail_ratio, self.fail_methods, self.ratio_retry_after = 0.0, None, 1  # fail_methods: a set fail_ratio applies to
        self.seed = 0
        self.add_chat(crisis_group, "supergroup", "Crisis Room", is_forum=forum)
        self.channel_id = self.add_chat(-1009000000001, "channel", "Brand News", username="brand_news")["id"]  # "@brand_news"
        self._store: dict[tuple[int, int], dict] = {}  # (chat_id, message_id) -> the message as Telegram holds it
        self._raw: dict[tuple[int, int], str] = {}  # (chat_id, message_id) -> its text as last sent or edited
        self._command_sets: dict[tuple[str, str], list] = {}
        self._faults: list[list] = []
        self._message_ids, self._update_ids, self._query_ids = itertools.count(1), itertools.count(100000001), itertools.count(4000000001)
        self._arrived, self._runner = asyncio.Event(), None
        self._methods = {name[3:].lower(): (name[3:], getattr(self, name)) for name in dir(self) if name.startswith("_m_")}

    def new_message_id(self) -> int:
        return next(self._message_ids)  # one sequence for all chats, so a message_thread_id names one topic

    # ---- lifecycle

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        self.api_base = f"{self.base_url}/bot"

    async def stop(self) -> None:
        self.poll_cap = 0
        self._arrived.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    # ---- faults

    def fail_next(
        self, method: str | None, status: int = 429, retry_after: int | None = 1, times: int = 1, description: str | None = None
    ) -> None:
        """The next `times` calls of `method` (None: any method) fail with `status`; 429 carries retry_after when not None."""
        self._faults.append([method and method.lower(), status, retry_after, times, description])

    @property
    def seed(self) -> int:
        return self._seed

    @seed.setter
    def seed(self, value: int) -> None:
        self._seed, self._rng, self._ratio_faults = value, random.Random(value), 0

    def _fault(self, method: str) -> TelegramError | None:
        for fault in self._faults:
            if fault[0] in (None, method.lower()):
                fault[3] -= 1
                if fault[3] <= 0:
                    self._faults.remove(fault)
                return self._fault_error(*fault[1:3], fault[4])
        in_scope = self.fail_methods is None or method in self.fail_methods
        if self.fail_ratio > 0 and in_scope and self._rng.random() < self.fail_ratio:
            self._ratio_faults += 1
            return self._fault_error(RATIO_FAULTS[(self._ratio_faults - 1) % len(RATIO_FAULTS)], self.ratio_retry_after)
        return None

    @staticmethod
    def _fault_error(status: int, retry_after: int | None, description: str | None = None) -> TelegramError:
        if status == 429:
            with_after = f"Too Many Requests: retry after {retry_after}" if retry_after is not None else "Too Many Requests"
            return TelegramError(429, description or with_after, {"retry_after": retry_after} if retry_after is not None else None)
        text = DESCRIPTIONS.get(status, "Error")
        return TelegramError(status, description or (f"{text}: fault injected" if status in (400, 403) else text))

    # ---- HTTP

    async def _api(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        if request.body_exists and request.content_type == "application/json":
            params.update(await request.json())
        elif request.body_exists and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        params = {k: v for k, v in params.items() if v is not None}
        method, handler = self._methods.get(name.lower(), (name, None))
        self.calls.append((method, params))
        self.call_times.append(time.monotonic())
        try:
            if request.match_info["token"] != self.token:
                raise TelegramError(401, "Unauthorized")
            if handler is None:
                raise TelegramError(404, "Not Found")
            if fault := self._fault(method):
                raise fault
            result = handler(params)
            if inspect.isawaitable(result):
                result = await result
            return web.json_response({"ok": True, "result": result})
        except TelegramError as error:
            body = {"ok": False, "error_code": error.status, "description": error.description}
            return web.json_response(body | ({"parameters": error.parameters} if error.parameters else {}), status=error.status)
        except Exception as error:  # a bug of the fake: say so loudly instead of passing for a Telegram 500
            self.internal_errors.append(f"{method}: {error!r}")
            return web.json_response({"ok": False, "error_code": 599, "description": f"fake Telegram bug: {error!r}"}, status=599)

    # ---- Bot API methods: each takes the request's params and returns the result, or raises TelegramError

    def _m_getMe(self, params: dict) -> dict:
        flags = {"can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}
        return self.bot_user() | flags | {"can_connect_to_business": False, "has_main_web_app": False}

    def _m_getChat(self, params: dict) -> dict:
        chat = self._chat(params)
        gifts = dict.fromkeys(["unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription", "gifts_from_channels"], False)
        return self.chat_obj(chat) | {"accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}

    def _m_getChatMember(self, params: dict) -> dict:
        self._chat(params)
        user_id = param_int(params.get("user_id"), "user_id")
        if user_id == self.bot_id:
            rights = dict.fromkeys(["can_manage_chat", "can_delete_messages", "can_restrict_members", "can_invite_users"], True)
            rights |= dict.fromkeys(["can_manage_video_chats", "can_promote_members", "can_change_info", "can_post_stories"], False)
            rights |= dict.fromkeys(["can_edit_stories", "can_delete_stories", "can_be_edited", "is_anonymous"], False)
            rights |= {"can_pin_messages": True, "can_manage_topics": self.bot_can_manage_topics}
            return {"status": "administrator", "user": self.bot_user(), **rights}
        if user_id not in self.users:
            raise TelegramError(400, "Bad Request: user not found")
        return {"status": "member", "user": self.users[user_id]}

    def _m_createForumTopic(self, params: dict) -> dict:
        chat = self._chat(params)
        self._manager(chat, "create a topic")
        name = params.get("name") or ""
        if not 1 <= len(name) <= 128:
            raise TelegramError(400, "Bad Request: TOPIC_TITLE_EMPTY" if not name else "Bad Request: TOPIC_TITLE_INVALID")
        color = param_int(params.get("icon_color"), "icon_color") or 7322096
        if color not in ICON_COLORS:
            raise TelegramError(400, "Bad Request: TOPIC_ICON_COLOR_INVALID")
        root = self.message_obj(chat, self.bot_user(), None, forum_topic_created={"name": name, "icon_color": color})
        thread_id = root["message_id"]  # a topic is named by the id of the service message that opened it
        root |= {"message_thread_id": thread_id, "is_topic_message": True}
        self.topics[thread_id] = {"chat_id": chat["id"], "name": name, "icon_color": color, "closed": False}
        return {"message_thread_id": thread_id, "name": name, "icon_color": color}

    def _m_editForumTopic(self, params: dict) -> bool:
        topic = self._topic(self._chat(params), params)
        name = params.get("name") or topic["name"]
        if name == topic["name"]:
            raise TelegramError(400, "Bad Request: TOPIC_NOT_MODIFIED")
        if len(name) > 128:
            raise TelegramError(400, "Bad Request: TOPIC_TITLE_INVALID")
        topic["name"] = name
        return True

    def _m_closeForumTopic(self, params: dict, closed: bool = True) -> bool:
        topic = self._topic(self._chat(params), params)
        if topic["closed"] == closed:
            raise TelegramError(400, "Bad Request: TOPIC_NOT_MODIFIED")
        topic["closed"] = closed
        return True

    def _m_reopenForumTopic(self, params: dict) -> bool:
        return self._m_closeForumTopic(params, closed=False)

    def _m_sendMessage(self, params: dict) -> dict:
        chat = self._chat(params, send=True)
        (raw, text, entities), markup = content(params), reply_markup(params)
        thread_id = param_int(params.get("message_thread_id"), "message_thread_id")
        if thread_id is not None and chat.get("is_forum"):
            topic = self.topics.get(thread_id)
            if topic is None or topic["chat_id"] != chat["id"]:
                raise TelegramError(400, "Bad Request: message thread not found")
            if topic["closed"] and not self.bot_can_manage_topics:
                raise TelegramError(400, "Bad Request: TOPIC_CLOSED")
        reply = param_json(params.get("reply_parameters")) or {}
        reply_id = reply.get("message_id") or param_int(params.get("reply_to_message_id"), "reply_to_message_id")
        replied = self._store.get((chat["id"], reply_id)) if reply_id else None
        if reply_id and not replied and not param_flag(reply.get("allow_sending_without_reply", params.get("allow_sending_without_reply"))):
            raise TelegramError(400, "Bad Request: message to be replied not found")
        no_preview = (param_json(params.get("link_preview_options")) or {}).get("is_disabled", params.get("disable_web_page_preview"))
        sender = None if chat["type"] == "channel" else self.bot_user()
        message = self.message_obj(chat, sender, text, entities, thread_id, replied, markup)
        self._raw[(chat["id"], message["message_id"])] = raw
        record = {"chat_id": chat["id"], "message_id": message["message_id"], "message_thread_id": thread_id, "text": raw}
        record |= {"parse_mode": params.get("parse_mode"), "reply_markup": markup}
        record |= {"disable_web_page_preview": None if no_preview is None else param_flag(no_preview)}
        self.messages.append(record | {"plain": text, "reply_to_message_id": reply_id})
        return message

    def _edit(self, params: dict, text: str | None, entities: list | None, markup: dict | None) -> dict:
        chat = self._chat(params)
        message = self._message(chat, params, "message to edit not found")
        if "text" not in message or (message.get("from", {}).get("id") != self.bot_id and "sender_chat" not in message):
            raise TelegramError(400, "Bad Request: message can't be edited")
        keyboard = {"inline_keyboard": markup["inline_keyboard"]} if markup and "inline_keyboard" in markup else None
        new_text = message.get("text") if text is None else text
        new_entities = message.get("entities", []) if entities is None else entities
        if (new_text, new_entities, keyboard) == (message.get("text"), message.get("entities", []), message.get("reply_markup")):
            raise TelegramError(400, NOT_MODIFIED)
        message.update(text=new_text, edit_date=int(time.time()))
        message.pop("entities", None)
        message.pop("reply_markup", None)  # an edit without reply_markup removes the inline keyboard, as on Telegram
        message |= ({"entities": new_entities} if new_entities else {}) | ({"reply_markup": keyboard} if keyboard else {})
        return message

    def _m_editMessageText(self, params: dict) -> dict:
        if params.get("inline_message_id"):
            raise TelegramError(400, "Bad Request: the fake Telegram has no inline messages")
        raw, text, entities = content(params)
        markup = reply_markup(params)
        message = self._edit(params, text, entities, markup)
        key = (message["chat"]["id"], message["message_id"])
        self._raw[key] = raw
        edit = {"chat_id": key[0], "message_id": key[1], "text": raw, "parse_mode": params.get("parse_mode"), "reply_markup": markup}
        self.edits.append(edit)
        return message

    def _m_editMessageReplyMarkup(self, params: dict) -> dict:
        markup = reply_markup(params)
        message = self._edit(params, None, None, markup)
        self.markup_edits.append({"chat_id": message["chat"]["id"], "message_id": message["message_id"], "reply_markup": markup})
        return message

    def _m_pinChatMessage(self, params: dict) -> bool:
        chat = self._chat(params)
        self.pins.append((chat["id"], self._message(chat, params, "message to pin not found")["message_id"]))
        return True

    def _m_answerCallbackQuery(self, params: dict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self.open_queries:
            raise TelegramError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        if len(params.get("text") or "") > 200:
            raise TelegramError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.open_queries.discard(query_id)
        answer = {"callback_query_id": query_id, "text": params.get("text"), "show_alert": param_flag(params.get("show_alert"))}
        self.callback_answers.append(answer | {"url": params.get("url"), "cache_time": param_int(params.get("cache_time"), "cache_time")})
        return True

    @staticmethod
    def _command_key(params: dict) -> tuple[str, str]:
        scope = param_json(params.get("scope")) or {"type": "default"}
        return json.dumps(scope, sort_keys=True), params.get("language_code") or ""

    def _m_setMyCommands(self, params: dict) -> bool:
        commands = param_json(params.get("commands"))
        if not isinstance(commands, list) or len(commands) > 100:
            raise TelegramError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            name, description = str(command.get("command", "")), str(command.get("description", ""))
            if not (1 <= len(name) <= 32 and name.replace("_", "").isalnum() and name.isascii() and name == name.lower()):
                raise TelegramError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise TelegramError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        scope = param_json(params.get("scope"))
        self.commands.append({"commands": commands, "language_code": params.get("language_code"), "scope": scope})
        self._command_sets[self._command_key(params)] = commands
        return True

    def _m_deleteMyCommands(self, params: dict) -> bool:
        self._command_sets.pop(self._command_key(params), None)
        return True

    def _m_getMyCommands(self, params: dict) -> list:
        return self._command_sets.get(self._command_key(params), [])

    def _m_setWebhook(self, params: dict) -> bool:
        url, secret = params.get("url") or "", params.get("secret_token")
        if secret is not None and not (1 <= len(secret) <= 256 and secret.replace("_", "").replace("-", "").isalnum() and secret.isascii()):
            raise TelegramError(400, "Bad Request: secret token contains unallowed characters")
        if param_flag(params.get("drop_pending_updates")):
            self.pending.clear()
        self.webhook = None
        if url:
            self.webhook = {"url": url, "secret_token": secret, "allowed_updates": param_json(params.get("allowed_updates"))}
            self.webhook["max_connections"] = param_int(params.get("max_connections"), "max_connections") or 40
        return True

    def _m_deleteWebhook(self, params: dict) -> bool:
        return self._m_setWebhook({k: v for k, v in params.items() if k == "drop_pending_updates"})

    def _m_getWebhookInfo(self, params: dict) -> dict:
        info = {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False, "pending_update_count": len(self.pending)}
        if self.webhook:
            info |= {"max_connections": self.webhook["max_connections"], "ip_address": "127.0.0.1"}
            info |= {"allowed_updates": self.webhook["allowed_updates"]} if self.webhook["allowed_updates"] else {}
        return info

    async def _m_getUpdates(self, params: dict) -> list:
        if self.webhook:
            msg = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
            raise TelegramError(409, msg)
        offset = param_int(params.get("offset"), "offset") or 0
        if offset < 0:
            self.pending[:] = self.pending[offset:]
        elif offset:
            self.pending[:] = [u for u in self.pending if u["update_id"] >= offset]  # confirmed: gone for good
            self.confirmed = max(self.confirmed, offset)
        limit = min(max(param_int(params.get("limit"), "limit") or 100, 1), 100)
        allowed = set(param_json(params.get("allowed_updates")) or [])
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), self.poll_cap)
        while True:
            ready = [u for u in self.pending if not allowed or allowed & (u.keys() - {"update_id"})]
            if ready or time.monotonic() >= deadline or self.poll_cap <= 0:  # poll_cap 0: the fake is stopping
                return ready[:limit]
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), deadline - time.monotonic())
            except TimeoutError:
                pass

    def _m_close(self, params: dict) -> bool:
        return True

    _m_logOut = _m_close
