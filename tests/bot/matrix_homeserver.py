"""A Matrix homeserver's client-server API on loopback, as much of it as the bot uses, for in-process tests: /sync hands
out the batches a test queued, and what the bot sent, created, pinned, invited and joined is recorded. The real thing
(Synapse) is what tests/e2e/matrix runs against; this one can be told to fail exactly where a test needs it to."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

from aiohttp import web

PREFIX = "/_matrix/client/v3"


@dataclass
class Sent:
    """One event the bot sent: the room, the event type, its content, its transaction id and the id it got."""

    room: str
    type: str
    content: dict
    txn: str
    event_id: str


@dataclass
class FakeHomeserver:
    """The fake; `refuse` maps an endpoint name to the (status, body) its next answers get, one entry per call."""

    user_id: str = "@onevoice:test"
    batches: list[dict] = field(default_factory=list)  # sync answers handed out in order: the k-th has next_batch s{k+1}
    sent: list[Sent] = field(default_factory=list)
    state: dict[tuple[str, str, str], dict] = field(default_factory=dict)
    created: list[dict] = field(default_factory=list)
    invited: list[tuple[str, str]] = field(default_factory=list)
    joined: list[str] = field(default_factory=list)
    syncs: list[str | None] = field(default_factory=list)  # the `since` of each /sync asked
    history: dict[str, list[dict]] = field(default_factory=dict)  # room → the events /messages pages back through
    refuse: dict[str, list[tuple[int, dict]]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    lose_answers: int = 0  # the next n sends are stored but answered 502
    send_gate: Callable[[str, dict], tuple[int, dict] | None] | None = None  # (room, content) → a refusal, or None to send

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._news = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.url = ""

    async def __aenter__(self) -> FakeHomeserver:
        app = web.Application()
        app.router.add_route("*", PREFIX + "/{tail:.*}", self._route)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # aiohttp keeps the bound socket here
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *_exc) -> None:
        self._closing = True
        self._news.set()  # a /sync still long-polling answers now: the server's cleanup waits for every open request
        if self._runner is not None:
            await self._runner.cleanup()

    # ---- what a test arranges

    def push(self, join: dict[str, list[dict]] | None = None, invite: dict[str, list[dict]] | None = None, limited=()) -> str:
        """Queue one sync batch: timeline events per joined room, stripped state per invited room; its next_batch."""
        rooms = {
            "join": {r: {"timeline": {"events": evs, "limited": r in limited, "prev_batch": f"p{r}"}} for r, evs in (join or {}).items()},
            "invite": {r: {"invite_state": {"events": evs}} for r, evs in (invite or {}).items()},
            "leave": {},
        }
        self.batches.append({"rooms": rooms})
        self._news.set()
        return f"s{len(self.batches)}"

    def message(self, sender: str, body: str, **content) -> dict:
        """A text message event as a homeserver hands it out."""
        return {
            "type": "m.room.message",
            "event_id": f"$e{next(self._ids)}",
            "sender": sender,
            "origin_server_ts": 1_700_000_000_000,
            "content": {"msgtype": "m.text", "body": body, **content},
        }

    def said(self, room: str | None = None) -> list[dict]:
        """The contents of the messages the bot sent (to one room)."""
        return [s.content for s in self.sent if s.type == "m.room.message" and (room is None or s.room == room)]

    # ---- the API

    async def _route(self, request: web.Request) -> web.StreamResponse:
        tail = "/" + request.match_info["tail"]
        for name, pattern, method in ROUTES:
            found = re.fullmatch(pattern, request.raw_path.split("?", 1)[0][len(PREFIX) :])
            if found and request.method == method:
                if self.refuse.get(name):
                    status, body = self.refuse[name].pop(0)
                    return web.json_response(body, status=status)
                body = await request.json() if request.can_read_body else {}
                answer = await getattr(self, f"_{name}")(request, *[unquote(g) for g in found.groups()], body=body)
                return answer if isinstance(answer, web.Response) else web.json_response(answer)
        return web.json_response({"errcode": "M_UNRECOGNIZED", "error": f"{request.method} {tail}"}, status=404)

    async def _whoami(self, _request, body):
        return {"user_id": self.user_id, "device_id": "FAKEDEVICE"}

    async def _sync(self, request, body):
        since = request.query.get("since")
        self.syncs.append(since)
        if since is None:
            return {"next_batch": f"s{len(self.batches)}", "rooms": {"join": {}, "invite": {}, "leave": {}}}
        index = int(since[1:])
        if index >= len(self.batches) and not self._closing:
            self._news.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._news.wait(), min(int(request.query.get("timeout", "0")) / 1000, 0.2))
        if index >= len(self.batches):
            return {"next_batch": since, "rooms": {"join": {}, "invite": {}, "leave": {}}}
        return {**self.batches[index], "next_batch": f"s{index + 1}"}

    async def _send(self, _request, room, kind, txn, body):
        refused = self.send_gate(room, body) if self.send_gate else None
        if refused is not None:
            return web.json_response(refused[1], status=refused[0])
        known = next((s for s in self.sent if s.txn == txn and s.room == room), None)
        if known is not None:  # as a homeserver does: the same transaction again gets the first answer
            return {"event_id": known.event_id}
        event_id = f"$sent{next(self._ids)}"
        self.sent.append(Sent(room, kind, body, txn, event_id))
        if self.lose_answers:  # it is stored, but the answer is lost on its way back (a proxy's 502)
            self.lose_answers -= 1
            return web.json_response({"errcode": "M_UNKNOWN", "error": "Bad gateway"}, status=502)
        return {"event_id": event_id}

    async def _create(self, _request, body):
        room = f"!room{next(self._ids)}"
        self.created.append({**body, "room_id": room})
        for event in body.get("initial_state", []):
            self.state[(room, event["type"], event.get("state_key", ""))] = event["content"]
        return {"room_id": room}

    async def _put_state(self, _request, room, kind, key="", body=None):
        self.state[(room, kind, key)] = body or {}
        return {"event_id": f"$state{next(self._ids)}"}

    async def _get_state(self, _request, room, kind, key="", body=None):
        if (room, kind, key) not in self.state:
            raise web.HTTPNotFound(text=json.dumps({"errcode": "M_NOT_FOUND", "error": "no state"}), content_type="application/json")
        return self.state[(room, kind, key)]

    async def _invite(self, _request, room, body):
        self.invited.append((room, body["user_id"]))
        return {}

    async def _join(self, _request, room, body):
        room = self.aliases.get(room, room)
        self.joined.append(room)
        return {"room_id": room}

    async def _alias(self, _request, alias, body):
        if alias not in self.aliases:
            raise web.HTTPNotFound(text=json.dumps({"errcode": "M_NOT_FOUND", "error": "no alias"}), content_type="application/json")
        return {"room_id": self.aliases[alias], "servers": ["test"]}

    async def _messages(self, request, room, body):
        """Pages back from `from` (an index into the room's history, or its end) to `to`; 2 events a page."""
        events = self.history.get(room, [])
        start = request.query.get("from", "")
        end = int(start[1:]) if start.startswith("h") else len(events)
        chunk = list(reversed(events[max(0, end - 2) : end]))
        return {"chunk": chunk, "start": start, **({"end": f"h{max(0, end - 2)}"} if end > 0 else {})}


ROUTES = [
    ("whoami", r"/account/whoami", "GET"),
    ("sync", r"/sync", "GET"),
    ("send", r"/rooms/([^/]+)/send/([^/]+)/([^/]+)", "PUT"),
    ("create", r"/createRoom", "POST"),
    ("put_state", r"/rooms/([^/]+)/state/([^/]+)/?([^/]*)", "PUT"),
    ("get_state", r"/rooms/([^/]+)/state/([^/]+)/?([^/]*)", "GET"),
    ("invite", r"/rooms/([^/]+)/invite", "POST"),
    ("join", r"/join/([^/]+)", "POST"),
    ("alias", r"/directory/room/([^/]+)", "GET"),
    ("messages", r"/rooms/([^/]+)/messages", "GET"),
]
