"""The real `onevoice run` process against a real Synapse: its own bot user, space, crisis room and publish target per
test (the server and the team are the session's), and the team members' clients to type and read as people do."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import yaml

from config.load import STARTER
from tests.e2e.matrix.matrix_client import MatrixUser, stripped
from tests.e2e.run_process import RunningBot, free_port
from tests.fakes.synapse_server import Account, Limits, Synapse
from tests.templates import migrated_sqlite

ROOT = Path(__file__).resolve().parents[3]
CLOCK_START = "2026-03-02T01:00:00+00:00"
TEAM = ("alice", "bob", "carol", "dave", "erin")
STRANGER = "mallory"  # in the crisis room, not in the team
TARGET = "matrix-news"  # the publish target: a room of its own


@dataclass
class Homeserver:
    """The session's Synapse and the accounts of the team (and of one stranger) on it."""

    synapse: Synapse
    people: dict[str, Account]


def team_config(people: dict[str, Account], space: str, crisis_room: str, target: str, extra: dict | None) -> str:
    """The starter config with each person's Matrix id, the space, the crisis room and a Matrix publish target."""
    config = yaml.safe_load(STARTER.read_text(encoding="utf-8"))
    for name in TEAM:
        config["team"]["people"][name]["matrix"] = people[name].user_id
    config["matrix"] = {"space": space, "crisis_room": crisis_room}
    config["broadcast"].append({"name": TARGET, "matrix": target})
    for key, value in (extra or {}).items():
        config[key] = value
    return yaml.safe_dump(config, allow_unicode=True, sort_keys=False)


def direct_invite(state: list[dict], me: str, inviter: str) -> bool:
    """Whether an invite's stripped state is `inviter` inviting `me` to a direct chat (`is_direct` on my membership)."""
    return any(
        e.get("type") == "m.room.member"
        and e.get("state_key") == me
        and e.get("sender") == inviter
        and e.get("content", {}).get("is_direct")
        for e in state
    )


class MatrixBot(RunningBot):
    """One `onevoice run` on Matrix: the bot's account, its rooms, the process, and the people's clients."""

    def __init__(self, folder: Path, server: Homeserver, limited: bool = False, extra: dict | None = None, messages: Limits | None = None):
        super().__init__()
        self.folder, self.server, self.synapse, self.limited, self.extra = folder, server, server.synapse, limited, extra
        self.messages = messages  # when limited: the bot's own limit on messages and state events (else the server's)
        self.database = folder / "onevoice.db"
        self.log = folder / "onevoice.log"
        self.config = folder / "onevoice.yaml"
        self.http: aiohttp.ClientSession | None = None
        self.clients: dict[str, MatrixUser] = {}
        self.dms: dict[str, set[str]] = {}  # person → their direct chats with the bot
        self.account: Account | None = None
        self.space = self.crisis_room = self.target_room = ""
        self.starts = 0
        self._log_mark = 0

    # ---- the rooms a team sets up before the bot runs (README "Matrix")

    async def prepare(self) -> MatrixBot:
        """Register the bot (exempt from rate limits unless `limited`), create the space, the crisis room and the publish
        target as the bot (so it has power in them), invite the team and the stranger, and let them join."""
        self.http = aiohttp.ClientSession()
        self.account = self.synapse.register(self.synapse.fresh("onevoice"), displayname="OneVoice")
        me = self.as_bot()
        everyone = tuple(self.server.people[name].user_id for name in (*TEAM, STRANGER))
        self.space, self.crisis_room, self.target_room = await asyncio.gather(
            me.create_room("Crisis space", invite=everyone, space=True),
            me.create_room("Crisis room", invite=everyone),
            me.create_room("Newsroom", invite=(self.server.people["alice"].user_id,)),
        )
        await asyncio.gather(
            *(me.put_state(self.space, "m.space.child", {"via": ["localhost"]}, key=r) for r in (self.crisis_room, self.target_room))
        )
        await asyncio.gather(*(self.user(name) for name in (*TEAM, STRANGER)))  # each reads from now on, then all join at once
        joins = [(name, room) for name in (*TEAM, STRANGER) for room in (self.space, self.crisis_room)] + [("alice", self.target_room)]
        await asyncio.gather(*(self.clients[name].join(room, history=False) for name, room in joins))
        if self.limited:  # the setup above is the operator's; the limits are for what the bot does
            self.synapse.limit(self.account.user_id, self.messages)
        migrated_sqlite(self.database).dispose()  # the migrated copy the process would otherwise make itself, slowly
        self.config.write_text(team_config(self.server.people, self.space, self.crisis_room, self.target_room, self.extra), "utf-8")
        return self

    def as_bot(self) -> MatrixUser:
        assert self.http is not None and self.account is not None
        return MatrixUser(self.synapse.url, self.account, self.http)

    async def user(self, name: str) -> MatrixUser:
        """A team member's (or the stranger's) client, reading from now on."""
        if name not in self.clients:
            assert self.http is not None
            self.clients[name] = MatrixUser(self.synapse.url, self.server.people[name], self.http)
            await self.clients[name].catch_up()
        return self.clients[name]

    # ---- the process

    async def start(self, timeout: float = 90, password: bool = False) -> MatrixBot:
        """Start `onevoice run` with the bot's access token (or its password: it logs in itself); wait for its line."""
        assert self.account is not None
        login = {"MATRIX_PASSWORD": self.account.password} if password else {"MATRIX_ACCESS_TOKEN": self.account.token}
        env = {
            **os.environ,
            "ONEVOICE_CONFIG": str(self.config),
            "ONEVOICE_DATABASE_URL": f"sqlite:///{self.database}",
            "MATRIX_HOMESERVER": self.synapse.url,
            "MATRIX_USER_ID": self.account.user_id,
            "ONEVOICE_MATRIX_SYNC_TIMEOUT_MS": "1000",
            "ONEVOICE_HTTP_PORT": str(free_port()),
            "ONEVOICE_ADMIN_PORT": str(free_port()),
            "ONEVOICE_HTTP_HOST": "127.0.0.1",
            "ONEVOICE_CLOCK_START": CLOCK_START,
            "PYTHONPATH": str(ROOT),
        }
        for name in (
            "SLACK_BOT_TOKEN",
            "SLACK_APP_TOKEN",
            "SLACK_SIGNING_SECRET",
            "TELEGRAM_BOT_TOKEN",
            "TELEGRAM_WEBHOOK_SECRET",
            "MATRIX_ACCESS_TOKEN",
            "MATRIX_PASSWORD",
        ):
            env.pop(name, None)
        env |= login
        self._log_mark = len(self.output())
        self.starts += 1
        await asyncio.to_thread(self.start_process, env, self.folder)  # forked, unless `fresh`: tests/e2e/run_process.py
        running = lambda: self.output().count("OneVoice running") >= self.starts or self.process.poll() is not None  # noqa: E731
        await self.wait_for(running, timeout, "the 'OneVoice running' line")
        assert self.output().count("OneVoice running") >= self.starts, f"onevoice run did not start:\n{self.output()[self._log_mark :]}"
        assert "Matrix" in self.output()[self._log_mark :], self.output()[self._log_mark :]
        return self

    async def stop_process(self) -> int | None:
        """SIGTERM and wait (as a restart or a shutdown does); the log must hold no unexpected traceback."""
        code = await super().stop_process()
        self.process = None  # a restart starts another
        return code

    async def stop(self) -> int | None:
        try:
            return await self.stop_process()
        finally:
            if self.http is not None:
                await self.http.close()

    async def restart(self, password: bool = False) -> MatrixBot:
        await self.stop_process()
        return await self.start(password=password)

    def recent(self) -> str:
        return "\n".join(client.seen() for client in self.clients.values())

    # ---- what people do

    async def command(self, name: str, text: str, room: str | None = None) -> str:
        """`name` types `!crisis TEXT` in a room (the crisis room unless told), joining it first; the event id."""
        person, room = await self.user(name), room or self.crisis_room
        if room not in person.joined:  # an incident room: accept the bot's invite first, as a person would
            await person.wait(lambda: room in person.invites or room in person.joined, 30, f"{name}'s invite to {room}")
            if room not in person.joined:
                await person.join(room)
        return await person.send(room, f"!crisis {text}")

    async def declare(self, title: str = "Battery overheating", head: str = "product-quality sev2", who: str = "alice") -> str:
        """`who` declares in the crisis room; the incident room, once `who` has joined it and its card is pinned."""
        person = await self.user(who)
        await self.command(who, f"declare {head} {title}")
        slug = title.lower().replace(" ", "-")
        named = lambda room, state: slug in stripped(state, "m.room.name").get("name", "")  # noqa: E731
        room = await person.invited_to(named, 30, f"the invite to the room of {title!r}")
        await person.join(room)
        await person.wait(lambda: person.pinned(room), 30, "the card pinned")
        return room

    async def settled(self, timeout: float = 30) -> None:
        """Wait until the bot has nothing left to send."""
        await self.wait_for(lambda: self.pending_effects() == 0, timeout, "the outbox drained")

    @property
    def user_id(self) -> str:
        assert self.account is not None
        return self.account.user_id

    def from_bot(self, reader: MatrixUser, room: str) -> list[str]:
        """What `reader` reads now of the bot's messages in a room (after edits)."""
        return reader.bodies(room, self.user_id)

    async def direct(self, name: str, contains: str, timeout: float = 30) -> tuple[str, dict]:
        """The bot's latest message containing the text in `name`'s direct chats with it (accepting the bot's DM invites
        on the way, as a person would): (room, event)."""
        person = await self.user(name)

        async def found() -> tuple[str, dict] | None:
            for room, state in list(person.invites.items()):
                if direct_invite(state, person.user_id, self.user_id):
                    await person.join(room)
                    self.dms.setdefault(name, set()).add(room)
            for room in self.dms.get(name, ()):
                event = person.message(room, contains, self.user_id)
                if event:
                    return room, event
            return None

        return await person.wait(found, timeout, f"a direct message to {name} containing {contains!r}")
