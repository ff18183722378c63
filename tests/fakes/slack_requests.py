"""Parts of the fake Slack (slack_api.py): text escapes, Block Kit limits, the workspace's state queries,
and the signed requests Slack sends to the bot (slash commands, block actions, view submissions)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from typing import Any
from urllib.parse import urlencode

FORM = "application/x-www-form-urlencoded"
USER_ID = re.compile(r"[UW][A-Z0-9]+")
SELECTS = {  # how a {key: v} value of view_submission(values=...) is rendered, by its key
    "selected": "static_select",
    "selected_options": "multi_static_select",
    "selected_user": "users_select",
    "selected_users": "multi_users_select",
    "selected_conversation": "conversations_select",
    "selected_channel": "channels_select",
    "selected_date": "datepicker",
}


def unescape(text: str) -> str:
    """Reverse Slack's three escapes (`&amp;`, `&lt;`, `&gt;`); `&amp;` last so `&amp;lt;` gives `&lt;`."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


class SlackError(Exception):
    """An `{"ok": false, "error": ...}` answer of the Web API."""

    def __init__(self, error: str, messages: list[str] | None = None):
        super().__init__(error)
        self.error, self.messages = error, messages or []


def _text_of(obj: Any) -> str:
    return obj.get("text", "") if isinstance(obj, dict) else ""


def block_errors(blocks: Any, limit: int) -> list[str]:
    """The main Block Kit limits Slack enforces (messages: 50 blocks, views: 100); `[]` when the blocks are fine."""
    if not isinstance(blocks, list):
        return ["[ERROR] must provide an array [json-pointer:/blocks]"]
    errors, block_ids = [], set()
    if len(blocks) > limit:
        errors.append(f"[ERROR] no more than {limit} items allowed [json-pointer:/blocks]")
    for i, block in enumerate(blocks):
        where = f"[json-pointer:/blocks/{i}]"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            errors.append(f"[ERROR] missing required field: type {where}")
            continue
        block_id = block.get("block_id")
        if block_id is not None and (len(str(block_id)) > 255 or block_id in block_ids):
            errors.append(f"[ERROR] duplicate or too long block_id {where}")
        block_ids.add(block_id)
        if block["type"] == "section":
            if "text" in block and not 0 < len(_text_of(block["text"])) <= 3000:
                errors.append(f"[ERROR] text must be 1..3000 characters {where}")
            if "text" not in block and not block.get("fields"):
                errors.append(f"[ERROR] must provide text or fields {where}")
        if block["type"] == "header" and not 0 < len(_text_of(block.get("text"))) <= 150:
            errors.append(f"[ERROR] header text must be 1..150 characters {where}")
        elements = list(block.get("elements") or []) + [block[k] for k in ("accessory", "element") if k in block]
        if len(elements) > 25:
            errors.append(f"[ERROR] no more than 25 elements allowed {where}")
        action_ids = set()
        for element in elements:
            action_id = element.get("action_id") if isinstance(element, dict) else None
            if action_id is not None and (len(str(action_id)) > 255 or action_id in action_ids):
                errors.append(f"[ERROR] duplicate or too long action_id {where}")
            action_ids.add(action_id)
            if isinstance(element, dict) and element.get("type") == "button":
                if not 0 < len(_text_of(element.get("text"))) <= 75 or len(str(element.get("value", ""))) > 2000:
                    errors.append(f"[ERROR] button text must be 1..75 characters, value at most 2000 {where}")
    return errors


def view_errors(view: Any) -> list[str]:
    """The main limits Slack enforces on a modal or home view."""
    if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
        return ["[ERROR] view.type must be modal or home [json-pointer:/view/type]"]
    errors = [e.replace("/blocks", "/view/blocks") for e in block_errors(view.get("blocks", []), 100)]
    if view["type"] == "modal":
        if not 0 < len(_text_of(view.get("title"))) <= 24:
            errors.append("[ERROR] title must be 1..24 characters [json-pointer:/view/title/text]")
        for key in ("submit", "close"):
            if key in view and len(_text_of(view[key])) > 24:
                errors.append(f"[ERROR] must be less than 25 characters [json-pointer:/view/{key}/text]")
        if any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks", [])) and "submit" not in view:
            errors.append("[ERROR] submit is required when an input block is present [json-pointer:/view/submit]")
    if len(view.get("private_metadata") or "") > 3000:
        errors.append("[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]")
    if len(view.get("callback_id") or "") > 255:
        errors.append("[ERROR] must be less than 256 characters [json-pointer:/view/callback_id]")
    return errors


class Workspace:
    """What the workspace holds, for tests to query (the attributes are set by FakeSlack.__init__)."""

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def next_ts(self) -> str:
        self._ts += 100
        return f"{1700000000 + self._ts // 1_000_000}.{self._ts % 1_000_000:06d}"

    def add_channel(
        self, name: str, *, is_private: bool = False, members=(), created_by_bot: bool = False, channel_id: str | None = None
    ) -> dict:
        """A channel that exists before the bot acts (the bot is a member only when it created it or members say so)."""
        channel = {"id": channel_id or self.new_id("C"), "name": name, "is_private": is_private, "topic": "", "members": set(members)}
        channel.update(pins=[], created_by_bot=created_by_bot, is_archived=False, created=int(time.time()))
        self.channels[channel["id"]] = channel
        return channel

    def add_user(
        self,
        user_id: str,
        name: str | None = None,
        *,
        real_name: str | None = None,
        email: str | None = None,
        tz: str = "UTC",
        is_bot=False,
    ):
        name = name or user_id.lower()
        profile = {"real_name": real_name or name, "display_name": name, "email": email or f"{name}@example.com"}
        self.users[user_id] = {"id": user_id, "team_id": self.team_id, "name": name, "real_name": profile["real_name"], "deleted": False}
        self.users[user_id].update(is_bot=is_bot, tz=tz, tz_offset=0, locale="en-US", profile=profile)
        return self.users[user_id]

    def user(self, user_id: str) -> dict | None:
        if user_id == self.bot_user_id:
            return self.users.get(user_id) or self.add_user(user_id, "onevoice", is_bot=True)
        if user_id not in self.users and not self.strict_users and USER_ID.fullmatch(user_id or ""):
            self.add_user(user_id)
        return self.users.get(user_id)

    def channel_named(self, name: str) -> dict | None:
        return next((c for c in self.channels.values() if c["name"] == name.lstrip("#")), None)

    def im_of(self, user_id: str) -> str:
        """The D… channel of the bot's direct messages with a user (opened on first use)."""
        return self.ims.setdefault(user_id, self.new_id("D"))

    def _resolve(self, ref: str) -> str:
        if ref in self.channels or ref in self.ims.values():
            return ref
        if ref.startswith("#"):
            return (self.channel_named(ref) or {}).get("id", ref)
        return self.ims.get(ref, ref)

    def messages_in(self, channel: str) -> list[dict]:
        """Messages posted in a channel (an id, a #name, or a user id for the bot's DMs with them), ephemeral ones too."""
        channel_id = self._resolve(channel)
        return [m for m in self.messages if m["channel"] == channel_id]

    def find_message(self, channel: str, ts: str, ephemeral: bool | None = False) -> dict | None:
        channel_id = self._resolve(channel)
        found = (m for m in self.messages if m["channel"] == channel_id and m["ts"] == ts and ephemeral in (None, m["ephemeral"]))
        return next(found, None)

    def current(self, channel: str, ts: str) -> dict:
        """A message as it reads now ({"channel","ts","text","blocks"}), after every chat.update; {} when there is none."""
        message = self.find_message(channel, ts, ephemeral=None)
        if message is None:
            return {}
        now = {k: message[k] for k in ("channel", "ts", "text", "blocks")}
        for update in self.updates:
            if (update["channel"], update["ts"]) == (now["channel"], ts):
                now.update({k: update[k] for k in ("text", "blocks") if update[k] is not None})
        return now


class BotRequests(Workspace):
    """Requests from Slack to the bot: slash commands, block actions, view submissions, signed like Slack signs them.

    Mixed into FakeSlack, which provides the state used here (users, channels, messages, views, ids).
    """

    def sign(self, body: bytes, timestamp: int | None = None) -> dict:
        """Headers of a request signed with v0 HMAC-SHA256 over `v0:{timestamp}:{body}`; pass an old timestamp to go stale."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        digest = hmac.new(self.signing_secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        return {"Content-Type": FORM, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}

    @staticmethod
    def with_retry(headers: dict, num: int = 1, reason: str = "http_timeout") -> dict:
        """The same headers as a redelivery by Slack (`X-Slack-Retry-Num`, `X-Slack-Retry-Reason`)."""
        return {**headers, "X-Slack-Retry-Num": str(num), "X-Slack-Retry-Reason": reason}

    def response_url(self, name: str = "", channel: str | None = None, user: str | None = None) -> str:
        """A URL on the fake that records POSTed JSON into `responses` (a fresh name when none is given); given the channel
        and user of the request it answers, what is POSTed is also shown there, as Slack shows it."""
        name = name or f"r{next(self._request_ids)}"
        if channel is not None:
            self.response_targets[name] = (channel, user)
        return f"{self.base_url}/response/{name}"

    def register_trigger(self, trigger_id: str | None = None) -> str:
        """A trigger_id views.open will accept once (the given one, or a fresh Slack-like one)."""
        n = next(self._request_ids)
        trigger = trigger_id or f"{1700000000000 + n}.{self.team_id}.{hashlib.md5(str(n).encode()).hexdigest()}"
        self.triggers.add(trigger)
        self.used_triggers.discard(trigger)
        return trigger

    def _who(self, user_id: str) -> dict:
        user = self.user(user_id) or {"name": user_id.lower()}
        return {"id": user_id, "username": user["name"], "name": user["name"], "team_id": self.team_id}

    def _seen_in(self, user_id: str, channel_id: str) -> dict:
        """The channel a request comes from; Slack only sends requests from channels that exist, with the user in them."""
        channel_id = self._resolve(channel_id)  # a user id stands for the bot's DM with them, once it exists
        channel = self.channels.get(channel_id)
        if channel is None and channel_id.startswith("D"):
            return {"id": channel_id, "name": "directmessage"}
        if channel is None:
            channel = self.add_channel(channel_id.lower(), channel_id=channel_id, created_by_bot=False)
        channel["members"].add(user_id)
        return {"id": channel_id, "name": channel["name"]}

    def command_fields(self, user_id: str, text: str, channel_id: str, command: str = "/crisis", trigger_id: str | None = None) -> dict:
        """The fields of a slash command, in Slack's order (also the payload of a Socket Mode `slash_commands` envelope)."""
        where = self._seen_in(user_id, channel_id)
        trigger = self.register_trigger(trigger_id)
        return {
            "token": self.verification_token,
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": where["id"],
            "channel_name": where["name"],
            "user_id": user_id,
            "user_name": self._who(user_id)["username"],
            "command": command,
            "text": text,
            "api_app_id": self.app_id,
            "is_enterprise_install": "false",
            "response_url": self.response_url(channel=where["id"], user=user_id),
            "trigger_id": trigger,
        }

    def slash_command(self, user_id: str, text: str, channel_id: str, command: str = "/crisis", trigger_id: str | None = None):
        body = urlencode(self.command_fields(user_id, text, channel_id, command, trigger_id)).encode()
        return body, self.sign(body)

    def _find_button(self, channel_id, action_id, value, ts=None) -> tuple[dict | None, str | None, dict]:
        """The latest message in the channel (with that ts, if given) with that button, the button's block_id, the button."""
        candidates = [m for m in self.messages_in(channel_id) if ts in (None, m["ts"])]
        for message in reversed(candidates):
            for block in self.current(message["channel"], message["ts"]).get("blocks") or []:
                for element in list(block.get("elements") or []) + [block.get("accessory") or {}]:
                    if isinstance(element, dict) and element.get("action_id") == action_id and value in (None, element.get("value")):
                        return message, block.get("block_id"), element
        return (candidates[-1] if ts and candidates else None), None, {}

    def action_payload(self, user_id, channel_id, action_id, value, trigger_id=None, message_ts=None) -> dict:
        """A `block_actions` payload; without message_ts, the latest message of the channel carrying that button is used."""
        where = self._seen_in(user_id, channel_id)
        trigger = self.register_trigger(trigger_id)
        message, block_id, button = self._find_button(where["id"], action_id, value, message_ts)
        ts = message["ts"] if message else message_ts or self.next_ts()
        payload = {
            "type": "block_actions",
            "user": self._who(user_id),
            "api_app_id": self.app_id,
            "token": self.verification_token,
            "container": {
                "type": "message",
                "message_ts": ts,
                "channel_id": where["id"],
                "is_ephemeral": bool(message and message["ephemeral"]),
            },
            "trigger_id": trigger,
            "team": {"id": self.team_id, "domain": self.team_domain},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": where,
            "state": {"values": {}},
            "response_url": self.response_url(channel=where["id"], user=user_id),
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": block_id or f"b-{action_id}",
                    "text": button.get("text") or {"type": "plain_text", "text": action_id, "emoji": True},
                    "value": value,
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        if message and not message["ephemeral"]:
            current = self.current(message["channel"], message["ts"])
            payload["message"] = {"type": "message", "user": self.bot_user_id, "bot_id": self.bot_id, "team": self.team_id, **current}
        return payload

    def block_action(self, user_id, channel_id, action_id, value, trigger_id=None, message_ts=None):
        return self._form_payload(self.action_payload(user_id, channel_id, action_id, value, trigger_id, message_ts))

    @staticmethod
    def _input_value(value: Any, kind: str | None = None) -> dict:
        """Slack's state value; a bare value for a select of the opened view is taken as its choice."""
        if kind in SELECTS.values() and not isinstance(value, dict):
            value = {next(k for k, v in SELECTS.items() if v == kind): value}
        if isinstance(value, dict) and "type" in value:
            return value  # already in Slack's shape
        if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in SELECTS:
            key, chosen = next(iter(value.items()))
            if key == "selected":
                key, chosen = (
                    "selected_option",
                    None if chosen is None else {"text": {"type": "plain_text", "text": chosen}, "value": chosen},
                )
            elif key == "selected_options":
                chosen = [{"text": {"type": "plain_text", "text": v}, "value": v} for v in chosen]
            return {"type": SELECTS[next(iter(value))], key: chosen}
        return {"type": "plain_text_input", "value": value}

    def submission_payload(self, user_id, callback_id, private_metadata, values, trigger_id=None) -> dict:
        """A `view_submission` payload; the view is the last one opened with that callback_id, when there is one."""
        opened = next((v for v in reversed(list(self.open_views.values())) if v.get("callback_id") == callback_id), None)
        view = dict(opened or {"id": self.new_id("V"), "type": "modal", "blocks": [], "title": {"type": "plain_text", "text": "Modal"}})
        inputs = [b for b in view["blocks"] if isinstance(b, dict) and isinstance(b.get("element"), dict)]
        kinds = {(b.get("block_id"), b["element"].get("action_id")): b["element"].get("type") for b in inputs}
        state = {b: {a: self._input_value(v, kinds.get((b, a))) for a, v in actions.items()} for b, actions in values.items()}
        view.update(callback_id=callback_id, private_metadata=private_metadata, state={"values": state}, app_id=self.app_id)
        return {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": self.team_domain},
            "user": self._who(user_id),
            "api_app_id": self.app_id,
            "token": self.verification_token,
            "trigger_id": self.register_trigger(trigger_id),
            "view": view,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }

    def view_submission(self, user_id, callback_id, private_metadata, values, trigger_id=None):
        return self._form_payload(self.submission_payload(user_id, callback_id, private_metadata, values, trigger_id))

    def _form_payload(self, payload: dict) -> tuple[bytes, dict]:
        body = urlencode({"payload": json.dumps(payload, ensure_ascii=False, separators=(",", ":"))}).encode()
        return body, self.sign(body)
