"""A tiny Matrix client for the tests: a team member (or the harness) on Synapse's client-server API, with plain aiohttp.

It sends what a person types and reads what a person sees: room timelines (after edits), pinned events, room state,
invites and direct chats. Waits poll `/sync` (a short long-poll) until a condition holds, bounded in time.
"""

from __future__ import annotations

import inspect
import itertools
import json
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import aiohttp

from tests.fakes.synapse_server import Account

API = "/_matrix/client/v3"
FILTER = json.dumps({"room": {"timeline": {"limit": 500}}, "presence": {"types": []}, "account_data": {"types": []}})
SKIM = json.dumps({"room": {"timeline": {"limit": 1}, "state": {"types": []}}, "presence": {"types": []}, "account_data": {"types": []}})


_FRESH = itertools.count(1)


class MatrixError(AssertionError):
    """Synapse refused a request (its status and errcode in the message)."""

    def __init__(self, status: int, answer: dict, what: str):
        super().__init__(f"{what} → {status} {answer}")
        self.status, self.answer = status, answer


class MatrixUser:
    """One logged-in Matrix user; what it has seen of its rooms is in `timelines` and `invites` (updated by `sync`)."""

    def __init__(self, url: str, account: Account, http: aiohttp.ClientSession):
        self.url, self.account, self.http = url, account, http
        self.user_id = account.user_id
        self.since: str | None = None
        self.timelines: dict[str, list[dict]] = {}  # room id → events in order, as synced
        self.invites: dict[str, list[dict]] = {}  # room id → the invite's stripped state
        self.joined: set[str] = set()

    # ---- requests

    async def call(self, method: str, path: str, body: dict | None = None, params: dict | None = None, timeout: float = 30) -> Any:
        headers = {"Authorization": f"Bearer {self.account.token}"}
        async with self.http.request(
            method, self.url + path, json=body, params=params, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)
        ) as answer:
            data = await answer.json(content_type=None) if answer.content_length != 0 else {}
            if answer.status >= 400:
                raise MatrixError(answer.status, data or {}, f"{self.user_id}: {method} {path}")
            return data or {}

    async def create_room(
        self, name: str | None = None, invite: tuple[str, ...] = (), space: bool = False, direct: bool = False, preset: str = "private_chat"
    ) -> str:
        body: dict[str, Any] = {"preset": preset, "invite": list(invite), "is_direct": direct}
        if name:
            body["name"] = name
        if space:
            body["creation_content"] = {"type": "m.space"}
        room = (await self.call("POST", f"{API}/createRoom", body))["room_id"]
        self.joined.add(room)
        return room

    async def join(self, room: str, history: bool = True) -> None:
        """Join a room (accept its invite) and, unless told not to, read what was said in it before."""
        await self.call("POST", f"{API}/join/{quote(room)}", {})
        self.joined.add(room)
        self.invites.pop(room, None)
        if history:
            await self.backfill(room)

    async def invite(self, room: str, user_id: str) -> None:
        await self.call("POST", f"{API}/rooms/{quote(room)}/invite", {"user_id": user_id})

    async def send(self, room: str, body: str, msgtype: str = "m.text", html: str | None = None) -> str:
        """Type a message into a room (with `html`: as Element sends a message holding a mention pill); its event id."""
        content = {"msgtype": msgtype, "body": body}
        if html is not None:
            content |= {"format": "org.matrix.custom.html", "formatted_body": html}
        path = f"{API}/rooms/{quote(room)}/send/m.room.message/{uuid.uuid4().hex}"
        return (await self.call("PUT", path, content))["event_id"]

    async def put_state(self, room: str, kind: str, content: dict, key: str = "") -> str:
        return (await self.call("PUT", f"{API}/rooms/{quote(room)}/state/{kind}/{quote(key)}", content))["event_id"]

    async def state(self, room: str, kind: str, key: str = "") -> dict | None:
        """A state event's content now, or None when the room has none."""
        try:
            return await self.call("GET", f"{API}/rooms/{quote(room)}/state/{kind}/{quote(key)}")
        except MatrixError as error:
            if error.status == 404:
                return None
            raise

    async def all_state(self, room: str) -> list[dict]:
        return await self.call("GET", f"{API}/rooms/{quote(room)}/state")

    async def pinned(self, room: str) -> list[str]:
        return list(((await self.state(room, "m.room.pinned_events")) or {}).get("pinned", []))

    async def event(self, room: str, event_id: str) -> dict:
        return await self.call("GET", f"{API}/rooms/{quote(room)}/event/{quote(event_id)}")

    async def members(self, room: str) -> dict[str, str]:
        """user id → membership (join, invite, leave…) in a room."""
        events = (await self.call("GET", f"{API}/rooms/{quote(room)}/members"))["chunk"]
        return {e["state_key"]: e["content"]["membership"] for e in events}

    async def backfill(self, room: str, limit: int = 500) -> None:
        """Load a room's history (what was said before this user joined or synced), oldest first."""
        chunk = (await self.call("GET", f"{API}/rooms/{quote(room)}/messages", params={"dir": "b", "limit": str(limit)}))["chunk"]
        seen = self.timelines.setdefault(room, [])
        ids = {e["event_id"] for e in seen}
        seen[:0] = [e for e in reversed(chunk) if e["event_id"] not in ids]

    async def catch_up(self) -> None:
        """Start reading from now: what happened before (earlier tests on this server) is not this test's."""
        # Synapse answers a repeated initial sync (same user, filter and timeout) from a two-minute cache, with the
        # position of the first: a timeout no earlier request used makes it a new request (an initial sync never waits).
        await self.sync(timeout_ms=next(_FRESH), skim=True)
        self.timelines.clear()
        self.invites.clear()

    # ---- sync

    async def sync(self, timeout_ms: int = 0, skim: bool = False) -> None:
        """One /sync from where the last ended (a long-poll of `timeout_ms`); what it brings is added to what was seen."""
        params = {"filter": SKIM if skim else FILTER, "timeout": str(timeout_ms)}
        if self.since:
            params["since"] = self.since
        data = await self.call("GET", f"{API}/sync", params=params, timeout=timeout_ms / 1000 + 30)
        self.since = data["next_batch"]
        rooms = data.get("rooms", {})
        for room, joined in rooms.get("join", {}).items():
            self.joined.add(room)
            self.invites.pop(room, None)
            seen = self.timelines.setdefault(room, [])
            ids = {e["event_id"] for e in seen}
            seen.extend(e for e in joined.get("timeline", {}).get("events", []) if e["event_id"] not in ids)
        for room, invited in rooms.get("invite", {}).items():
            self.invites[room] = invited.get("invite_state", {}).get("events", [])
        for room in rooms.get("leave", {}):
            self.joined.discard(room)

    async def wait(self, condition: Callable[[], Any], timeout: float = 20, what: str = "") -> Any:
        """Sync until condition() (sync or async) is truthy, and return its value; fail saying what was seen."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.user_id}: timed out after {timeout}s waiting for {what or condition}\n{self.seen()}")
            await self.sync(timeout_ms=300)

    def seen(self, last: int = 8) -> str:
        """The last messages of each room, for a timeout's message."""
        lines = [f"invites: {list(self.invites)}"]
        for room in self.timelines:
            bodies = [f"  {e['sender']}: {self.current(room, e).get('body', '')[:160]!r}" for e in self.messages(room)[-last:]]
            lines.append(f"{room}:\n" + "\n".join(bodies))
        return "\n".join(lines)

    # ---- what a person reads

    def messages(self, room: str, sender: str | None = None) -> list[dict]:
        """The room's messages as a client lists them: edits are not messages of their own (they change one)."""
        return [
            e
            for e in self.timelines.get(room, [])
            if e["type"] == "m.room.message"
            and (sender is None or e["sender"] == sender)
            and e["content"].get("m.relates_to", {}).get("rel_type") != "m.replace"
            and "redacted_because" not in e.get("unsigned", {})
        ]

    def edits(self, room: str, event_id: str) -> list[dict]:
        """The m.replace edits of one message by its sender, in order."""
        original = next((e for e in self.timelines.get(room, []) if e["event_id"] == event_id), None)
        return [
            e
            for e in self.timelines.get(room, [])
            if e["type"] == "m.room.message"
            and e["content"].get("m.relates_to", {}).get("rel_type") == "m.replace"
            and e["content"]["m.relates_to"].get("event_id") == event_id
            and (original is None or e["sender"] == original["sender"])  # clients ignore an edit by someone else
        ]

    def current(self, room: str, event: dict) -> dict:
        """A message's content as clients show it now: its latest edit's m.new_content, or itself."""
        edits = self.edits(room, event["event_id"])
        return edits[-1]["content"].get("m.new_content", {}) if edits else event["content"]

    def bodies(self, room: str, sender: str | None = None) -> list[str]:
        return [self.current(room, e).get("body", "") for e in self.messages(room, sender)]

    def matching(self, room: str, contains: str, sender: str | None = None) -> list[dict]:
        """The room's messages whose current body contains the text, in order."""
        return [e for e in self.messages(room, sender) if contains in self.current(room, e).get("body", "")]

    def message(self, room: str, contains: str, sender: str | None = None) -> dict | None:
        """The latest message in the room whose current body contains the text."""
        found = self.matching(room, contains, sender)
        return found[-1] if found else None

    async def says(self, room: str, contains: str, sender: str | None = None, timeout: float = 20) -> dict:
        """Wait for a message containing the text; the event."""
        return await self.wait(lambda: self.message(room, contains, sender), timeout, f"a message containing {contains!r} in {room}")

    async def invited_to(self, predicate: Callable[[str, list[dict]], bool], timeout: float = 20, what: str = "an invite") -> str:
        """Wait for an invite whose (room id, stripped state) matches; its room id."""
        found = lambda: next((room for room, state in self.invites.items() if predicate(room, state)), None)  # noqa: E731
        return await self.wait(found, timeout, what)


def stripped(state: list[dict], kind: str) -> dict:
    """The content of one event of an invite's stripped state (m.room.name, m.room.create…)."""
    return next((e.get("content", {}) for e in state if e.get("type") == kind), {})
