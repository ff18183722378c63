"""A fake Slack workspace over real HTTP on loopback: the Web API, response_url sinks, Socket Mode, faults.

Point slack-sdk at it with `AsyncWebClient(token=fake.token, base_url=fake.api_url)`; build the requests Slack sends
to the bot with `fake.slash_command(...)`, `fake.block_action(...)`, `fake.view_submission(...)` (slack_requests.py).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import re
import time
from typing import Any

from aiohttp import WSMsgType, web

from .slack_requests import BotRequests, SlackError, block_errors, unescape, view_errors

__all__ = ["FakeSlack", "SlackError", "unescape"]

CHANNEL_NAME = re.compile(r"[a-z0-9_-]+")
APP_METHODS = {"apps.connections.open"}  # methods that take the app-level token (xapp-…) instead of the bot token


def _flag(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _json_field(value: Any) -> Any:
    """Blocks or a view: JSON bodies carry them as JSON, form bodies as a JSON string."""
    try:
        return json.loads(value) if isinstance(value, str) else value
    except json.JSONDecodeError as error:
        raise SlackError("invalid_arguments", [f"[ERROR] not valid JSON: {error}"]) from error


class FakeSlack(BotRequests):
    """A fake Slack workspace: Web API methods, response_url sink, signed requests to the bot, faults."""

    def __init__(
        self, token: str = "xoxb-test", signing_secret: str = "test-secret", team_id: str = "T0TEST", *, app_token: str | None = None
    ):
        self.token, self.signing_secret, self.team_id = token, signing_secret, team_id
        self.app_token = app_token  # None: any xapp-… token opens Socket Mode
        self.team_domain, self.app_id, self.bot_user_id, self.bot_id = "onevoice-test", "A0TEST", "UBOT0001", "BBOT0001"
        self.verification_token = "fake-verification-token"
        self.api_url = self.base_url = ""
        self.channels: dict[str, dict] = {}
        self.users: dict[str, dict] = {}
        self.strict_users = False  # True: only users added with add_user exist; else any U…/W… id is a user
        self.ims: dict[str, str] = {}  # user id -> D… channel id
        self.messages: list[dict] = []
        self.updates: list[dict] = []
        self.views: list[dict] = []
        self.view_updates: list[dict] = []
        self.open_views: dict[str, dict] = {}  # view id -> the view as Slack holds it
        self.responses: list[dict] = []
        self.response_log: list[tuple[str, dict, int]] = []  # (response_url name, body, status) for every POST, faulted too
        self.calls: list[tuple[str, dict]] = []
        self.internal_errors: list[str] = []  # exceptions raised inside the fake (answered with HTTP 599): should stay empty
        self.call_times: list[float] = []  # time.monotonic() of each entry of `calls`
        self.triggers: set[str] = set()
        self.used_triggers: set[str] = set()
        self.fail_ratio, self.fail_methods = 0.0, None  # fail_methods: a set of methods fail_ratio applies to (None: all)
        self.latency: dict[str, float] = {}  # method -> seconds between doing the call and answering it (a slow Slack)
        self.seed = 0
        self.socket_connected = asyncio.Event()
        self.socket_acks: list[dict] = []
        self._faults: list[list] = []
        self._ids, self._request_ids, self._ts = itertools.count(1), itertools.count(1), 0
        self._ws: web.WebSocketResponse | None = None
        self._acks: dict[str, asyncio.Future] = {}
        self._runner: web.AppRunner | None = None

    # ---- lifecycle

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self.base_url, self.api_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/api/"

    async def stop(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        for future in self._acks.values():
            future.cancel()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    # ---- faults

    def fail_next(self, method: str | None, status: int, retry_after: int | None = None, times: int = 1) -> None:
        """The next `times` calls of `method` (None: any Web API method; "response_url": response_url POSTs) fail."""
        self._faults.append([method, status, retry_after, times])

    @property
    def seed(self) -> int:
        return self._seed

    @seed.setter
    def seed(self, value: int) -> None:
        self._seed, self._rng, self._ratio_faults = value, random.Random(value), 0

    def _fault(self, method: str) -> tuple[int, int | None] | None:
        for fault in self._faults:
            if fault[0] == method or (fault[0] is None and method != "response_url"):
                fault[3] -= 1
                if fault[3] <= 0:
                    self._faults.remove(fault)
                return fault[1], fault[2]
        in_scope = method != "response_url" and (self.fail_methods is None or method in self.fail_methods)
        if self.fail_ratio > 0 and in_scope and self._rng.random() < self.fail_ratio:
            self._ratio_faults += 1
            return (429, 1) if self._ratio_faults % 2 else (500, None)
        return None

    @staticmethod
    def _fault_response(status: int, retry_after: int | None) -> web.Response:
        if status == 429:
            headers = {"Retry-After": str(1 if retry_after is None else retry_after)}
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers=headers)
        return web.json_response({"ok": False, "error": "internal_error"}, status=status)

    # ---- HTTP

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        if request.body_exists and request.content_type == "application/json":
            params.update(await request.json())
        elif request.body_exists:
            params.update(await request.post())
        params = {k: v for k, v in params.items() if v is not None}  # a raw api_call(json=...) may carry nulls
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else params.pop("token", None)
        params.pop("token", None)
        self.calls.append((method, params))
        self.call_times.append(time.monotonic())
        fault = self._fault(method)
        if fault:
            return self._fault_response(*fault)
        handler = getattr(self, "_api_" + method.replace(".", "_"), None) if re.fullmatch(r"[a-zA-Z]+(\.[a-zA-Z]+)+", method) else None
        try:
            if handler is None:
                raise SlackError("unknown_method")
            self._check_token(method, token)
            result = handler(params)
            if self.latency.get(method):
                await asyncio.sleep(self.latency[method])  # done already: a caller killed meanwhile never hears of it
            return web.json_response({"ok": True, **result})
        except SlackError as error:
            body = {"ok": False, "error": error.error}
            if error.messages:
                body["response_metadata"] = {"messages": error.messages}
            return web.json_response(body)
        except Exception as error:  # a bug of the fake: say so loudly instead of passing for a Slack 500
            self.internal_errors.append(f"{method}: {error!r}")
            return web.json_response({"ok": False, "error": "fake_slack_bug", "detail": repr(error)}, status=599)

    def _check_token(self, method: str, token: str | None) -> None:
        if not token:
            raise SlackError("not_authed")
        is_app = token == self.app_token if self.app_token else token.startswith("xapp-")
        if token != self.token and not is_app:
            raise SlackError("invalid_auth")
        if (method in APP_METHODS) != is_app and method != "auth.test":
            raise SlackError("not_allowed_token_type")

    async def _response(self, request: web.Request) -> web.Response:
        name, body = request.match_info["name"], await request.json()
        fault = self._fault("response_url")
        self.response_log.append((name, body, fault[0] if fault else 200))
        if fault:
            return self._fault_response(*fault)
        self.responses.append(body)
        return web.json_response({"ok": True})

    # ---- Socket Mode

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)  # answers slack-sdk's pings with the same payload
        await ws.prepare(request)
        self._ws = ws
        await ws.send_json(
            {"type": "hello", "num_connections": 1, "debug_info": {"host": "fake-slack"}, "connection_info": {"app_id": self.app_id}}
        )
        self.socket_connected.set()
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    ack = json.loads(message.data)
                    self.socket_acks.append(ack)
                    future = self._acks.pop(ack.get("envelope_id"), None)
                    if future is not None and not future.done():
                        future.set_result(ack)
        finally:
            if self._ws is ws:
                self._ws = None
                self.socket_connected.clear()
        return ws

    async def socket_send(self, envelope: dict, timeout: float = 10) -> dict:
        """Send an envelope to the connected Socket Mode client and return its ack ({"envelope_id", maybe "payload"})."""
        await asyncio.wait_for(self.socket_connected.wait(), timeout)
        envelope = {"envelope_id": f"env-{next(self._request_ids)}", "accepts_response_payload": False, **envelope}
        future = self._acks[envelope["envelope_id"]] = asyncio.get_running_loop().create_future()
        await self._ws.send_json(envelope)
        return await asyncio.wait_for(future, timeout)

    async def socket_disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the client to reconnect, as Slack does now and then, and drop the connection."""
        if self._ws is not None:
            await self._ws.send_json({"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-slack"}})
            await self._ws.close()

    # ---- Web API methods: each takes the request's params and returns the fields of an ok answer, or raises SlackError

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
            return self._channel(ref)["id"]
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
