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

from .slack_requests import BotRequests, SlackError, unescape
from .slack_responses import Responses
from .slack_web_api import WebApi

__all__ = ["FakeSlack", "SlackError", "unescape"]

APP_METHODS = {"apps.connections.open"}  # methods that take the app-level token (xapp-…) instead of the bot token


class FakeSlack(WebApi, Responses, BotRequests):
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
        self.response_targets: dict[str, tuple[str, str | None]] = {}  # response_url name -> (channel, user) it answers
        self.response_uses: dict[str, int] = {}
        self.acks: list[dict] = []  # message bodies of slash-command acks, shown to the user (receive_ack, socket_send)
        self.refused_acks: list[dict] = []  # ack bodies Slack would refuse to show (bad blocks)
        self.acked_triggers: set[str | None] = set()
        self.members_only = True  # chat.postMessage/postEphemeral in a channel without the bot: not_in_channel, as on Slack
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
        ack = await asyncio.wait_for(future, timeout)
        if envelope.get("type") == "slash_commands":
            self._ack_shown(envelope.get("payload") or {}, 200, ack.get("payload"))
        return ack

    async def socket_disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the client to reconnect, as Slack does now and then, and drop the connection."""
        if self._ws is not None:
            await self._ws.send_json({"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-slack"}})
            await self._ws.close()
