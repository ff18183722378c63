"""The fake Slack's Web API methods: each takes a request's params and returns the fields of an ok answer, or raises
SlackError as Slack answers `ok: false`. Mixed into FakeSlack (slack_api.py), which holds the state they read and change.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .slack_requests import SlackError, block_errors, view_errors

CHANNEL_NAME = re.compile(r"[a-z0-9_-]+")


def _flag(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _json_field(value: Any) -> Any:
    """Blocks or a view: JSON bodies carry them as JSON, form bodies as a JSON string."""
    try:
        return json.loads(value) if isinstance(value, str) else value
    except json.JSONDecodeError as error:
        raise SlackError("invalid_arguments", [f"[ERROR] not valid JSON: {error}"]) from error


class WebApi:
    """conversations.*, chat.*, pins.*, views.*, users.info and auth.test, as the bot calls them."""

    def _channel(self, ref: str | None, *, member: bool = False) -> dict:
        channel = self.channels.get(self._resolve(ref or ""))
        if channel is None or (channel["is_private"] and self.bot_user_id not in channel["members"]):
            raise SlackError("channel_not_found")
        if member and self.bot_user_id not in channel["members"]:
            raise SlackError("not_in_channel")
        if member and channel["is_archived"]:
            raise SlackError("is_archived")
        return channel

    def _channel_obj(self, c: dict) -> dict:
        private, member = c["is_private"], self.bot_user_id in c["members"]
        obj = {"id": c["id"], "name": c["name"], "name_normalized": c["name"], "is_channel": not private, "is_group": private}
        obj.update(is_im=False, is_private=private, is_member=member, is_archived=c["is_archived"], created=c["created"])
        obj.update(creator=self.bot_user_id if c["created_by_bot"] else "", context_team_id=self.team_id, num_members=len(c["members"]))
        return {**obj, "topic": {"value": c["topic"], "creator": "", "last_set": 0}, "purpose": {"value": "", "creator": "", "last_set": 0}}

    def _target(self, ref: str | None) -> str:
        """A channel id to post in: a channel id, #name, D… id, or a user id (the bot's DM with them)."""
        ref = ref or ""
        if ref in self.ims.values():
            return ref
        if ref in self.channels or ref.startswith("#"):
            return self._channel(ref, member=self.members_only)["id"]
        if self.user(ref) is not None:
            return self.im_of(ref)
        raise SlackError("channel_not_found")

    @staticmethod
    def _content(params: dict, required: bool = True) -> tuple[str | None, list | None]:
        text, blocks = params.get("text"), _json_field(params.get("blocks"))
        if required and not text and not blocks and not params.get("attachments"):
            raise SlackError("no_text")
        if text is not None and len(text) > 40000:
            raise SlackError("msg_too_long")
        if blocks is not None and (errors := block_errors(blocks, 50)):
            raise SlackError("invalid_blocks", errors)
        return text, blocks

    def _post(self, params: dict, channel: str, user: str | None) -> dict:
        text, blocks = self._content(params)
        mrkdwn = None if "mrkdwn" not in params else _flag(params["mrkdwn"])
        message = {"channel": channel, "ts": self.next_ts(), "text": text, "blocks": blocks, "mrkdwn": mrkdwn, "user": user}
        message.update(thread_ts=params.get("thread_ts"), ephemeral=user is not None)
        self.messages.append(message)
        return message

    def _api_auth_test(self, params: dict) -> dict:
        info = {"url": f"https://{self.team_domain}.slack.com/", "team": "OneVoice Test", "user": "onevoice", "team_id": self.team_id}
        return {**info, "user_id": self.bot_user_id, "bot_id": self.bot_id, "is_enterprise_install": False}

    def _api_apps_connections_open(self, params: dict) -> dict:
        return {"url": f"{self.base_url.replace('http://', 'ws://')}/socket"}

    def _api_conversations_create(self, params: dict) -> dict:
        name = params.get("name") or ""
        if not name:
            raise SlackError("invalid_name_required")
        if len(name) > 80:
            raise SlackError("invalid_name_maxlength")
        if not CHANNEL_NAME.fullmatch(name):
            raise SlackError("invalid_name_specials")
        if self.channel_named(name):
            raise SlackError("name_taken")
        channel = self.add_channel(name, is_private=_flag(params.get("is_private")), members={self.bot_user_id}, created_by_bot=True)
        return {"channel": self._channel_obj(channel)}

    def _api_conversations_setTopic(self, params: dict) -> dict:
        channel, topic = self._channel(params.get("channel"), member=True), params.get("topic", "")
        if len(topic) > 250:
            raise SlackError("too_long")
        channel["topic"] = topic
        return {"channel": self._channel_obj(channel)}

    def _api_conversations_invite(self, params: dict) -> dict:
        channel = self._channel(params.get("channel"), member=True)
        users = [u.strip() for u in str(params.get("users", "")).split(",") if u.strip()]
        if not users:
            raise SlackError("no_user")
        if self.bot_user_id in users:
            raise SlackError("cant_invite_self")
        if any(self.user(u) is None for u in users):
            raise SlackError("user_not_found")
        if set(users) <= channel["members"]:
            raise SlackError("already_in_channel")  # like Slack: only when every one of them is already in
        channel["members"].update(users)
        return {"channel": self._channel_obj(channel)}

    def _api_conversations_info(self, params: dict) -> dict:
        ref = params.get("channel", "")
        if ref in self.ims.values():
            user = next(u for u, d in self.ims.items() if d == ref)
            return {"channel": {"id": ref, "is_im": True, "user": user, "is_open": True, "created": 0}}
        return {"channel": self._channel_obj(self._channel(ref))}

    def _api_conversations_list(self, params: dict) -> dict:
        types = str(params.get("types") or "public_channel").split(",")
        listed = [
            c
            for c in self.channels.values()
            if ("private_channel" if c["is_private"] else "public_channel") in types
            and (not c["is_private"] or self.bot_user_id in c["members"])
            and not (c["is_archived"] and _flag(params.get("exclude_archived")))
        ]
        start, limit = int(params.get("cursor") or 0), min(int(params.get("limit") or 100), 1000)
        more = start + limit < len(listed)
        page = [self._channel_obj(c) for c in listed[start : start + limit]]
        return {"channels": page, "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _api_conversations_join(self, params: dict) -> dict:
        channel = self._channel(params.get("channel"))  # a private channel the bot is not in: channel_not_found
        already = self.bot_user_id in channel["members"]
        channel["members"].add(self.bot_user_id)
        return {"channel": self._channel_obj(channel), **({"warning": "already_in_channel"} if already else {})}

    def _api_conversations_members(self, params: dict) -> dict:
        return {"members": sorted(self._channel(params.get("channel"))["members"]), "response_metadata": {"next_cursor": ""}}

    def _api_conversations_open(self, params: dict) -> dict:
        users = [u for u in str(params.get("users", "")).split(",") if u]
        if len(users) != 1 or self.user(users[0]) is None:
            raise SlackError("user_not_found")
        return {"channel": {"id": self.im_of(users[0])}}

    def _api_chat_postMessage(self, params: dict) -> dict:
        message = self._post(params, self._target(params.get("channel")), None)
        body = {"type": "message", "user": self.bot_user_id, "bot_id": self.bot_id, "team": self.team_id}
        return {"channel": message["channel"], "ts": message["ts"], "message": {**body, **self.current(message["channel"], message["ts"])}}

    def _api_chat_postEphemeral(self, params: dict) -> dict:
        channel, user = self._target(params.get("channel")), params.get("user", "")
        if self.user(user) is None:
            raise SlackError("user_not_found")
        if channel in self.channels and user not in self.channels[channel]["members"]:
            raise SlackError("user_not_in_channel")
        return {"message_ts": self._post(params, channel, user)["ts"]}

    def _api_chat_update(self, params: dict) -> dict:
        channel = self._target(params.get("channel"))
        if self.find_message(channel, params.get("ts", "")) is None:
            raise SlackError("message_not_found")
        text, blocks = self._content(params, required=False)
        self.updates.append({"channel": channel, "ts": params["ts"], "text": text, "blocks": blocks})
        now = self.current(channel, params["ts"])
        return {"channel": channel, "ts": params["ts"], "text": now["text"], "message": now}

    def _api_pins_add(self, params: dict) -> dict:
        channel = self._channel(params.get("channel"), member=True)
        ts = params.get("timestamp")
        if not ts:
            raise SlackError("no_item_specified")
        if self.find_message(channel["id"], ts) is None:
            raise SlackError("message_not_found")
        if ts in channel["pins"]:
            raise SlackError("already_pinned")
        channel["pins"].append(ts)
        return {}

    def _api_pins_remove(self, params: dict) -> dict:
        channel = self._channel(params.get("channel"), member=True)
        if params.get("timestamp") not in channel["pins"]:
            raise SlackError("no_pin")
        channel["pins"].remove(params["timestamp"])
        return {}

    def _api_pins_list(self, params: dict) -> dict:
        channel = self._channel(params.get("channel"))
        return {
            "items": [{"type": "message", "channel": channel["id"], "message": self.current(channel["id"], ts)} for ts in channel["pins"]]
        }

    def _full_view(self, view: Any, view_id: str | None = None) -> dict:
        view = _json_field(view)
        if errors := view_errors(view):
            raise SlackError("invalid_arguments", errors)
        view_id = view_id or self.new_id("V")
        full = {"id": view_id, "team_id": self.team_id, "app_id": self.app_id, "bot_id": self.bot_id, "root_view_id": view_id}
        full.update(
            {
                "private_metadata": "",
                "callback_id": "",
                "external_id": "",
                **view,
                "state": {"values": {}},
                "hash": f"h{next(self._request_ids)}",
            }
        )
        self.open_views[view_id] = full
        return full

    def _api_views_open(self, params: dict) -> dict:
        trigger = params.get("trigger_id")
        if not trigger:
            raise SlackError("invalid_arguments", ["[ERROR] missing required field: trigger_id"])
        if trigger in self.used_triggers:
            raise SlackError("exchanged_trigger_id")
        if trigger not in self.triggers:
            raise SlackError("invalid_trigger_id")
        full = self._full_view(params.get("view"))
        self.triggers.discard(trigger)
        self.used_triggers.add(trigger)
        self.views.append({"trigger_id": trigger, "view": _json_field(params["view"])})
        return {"view": full}

    _api_views_push = _api_views_open

    def _api_views_update(self, params: dict) -> dict:
        view_id = params.get("view_id") or next(
            (i for i, v in self.open_views.items() if v["external_id"] == params.get("external_id")), None
        )
        if view_id not in self.open_views:
            raise SlackError("not_found")
        if params.get("hash") and params["hash"] != self.open_views[view_id]["hash"]:
            raise SlackError("hash_conflict")
        full = self._full_view(params.get("view"), view_id)
        self.view_updates.append({"view_id": view_id, "view": _json_field(params["view"])})
        return {"view": full}

    def _api_users_info(self, params: dict) -> dict:
        user = self.user(params.get("user", ""))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": user}
