"""The rooms the Matrix bot speaks in besides incident rooms: configured rooms by id or alias, and each person's direct
room (kept in the database, so a restart or another replica reuses it instead of inviting the person again)."""

import asyncio
import logging

from nio import AsyncClient, RoomPreset
from sqlmodel import select

from bot.matrix.client import call
from bot.outbox.adapter import Undeliverable, touched
from config.model import Config
from storage.db import session, store_or_update
from storage.models import MatrixDirect

log = logging.getLogger(__name__)


def configured(config: Config) -> list[str]:
    """Every room the config names for Matrix (ids or aliases): the space, the crisis room, triage, stakeholders, targets."""
    named = [config.matrix.space, config.matrix.crisis_room]
    named += [r.matrix for r in [config.triage_room, *config.stakeholder_rooms] if r is not None]
    named += [t.matrix for t in config.broadcast]
    return [room for room in named if room]


def commanding(config: Config) -> list[str]:
    """The configured rooms commands are typed in, as on Telegram: the crisis, triage and stakeholder rooms; never the
    space or a broadcast target, which may be public."""
    named = [config.matrix.crisis_room, *(r.matrix for r in [config.triage_room, *config.stakeholder_rooms] if r is not None)]
    return [room for room in named if room]


class Rooms:
    """Room ids by alias (resolved once) and direct rooms by person, for one bot account."""

    def __init__(self, client: AsyncClient, engine, account: str):
        self.client, self.engine, self.account = client, engine, account
        self._ids: dict[str, str] = {}  # alias -> room id
        self._direct: dict[str, str] = {}  # person's user id -> room id
        self._incidents: set[str] = set()  # rooms made for an incident (a room stays its incident's)
        self._lock = asyncio.Lock()  # one direct room made at a time: two DMs to a new person share one room

    async def resolve(self, room: str) -> str:
        """The room id of a configured id or alias."""
        if not room.startswith("#"):
            return room
        if room not in self._ids:
            found = await call(self.client, "room_resolve_alias", room)
            self._ids[room] = found.room_id
        return self._ids[room]

    async def load(self) -> None:
        """The direct rooms stored by earlier runs (and other replicas)."""
        rows = await asyncio.to_thread(self._stored)
        self._direct.update({row.user_id: row.room_id for row in rows})

    def is_direct(self, room_id: str) -> bool:
        return room_id in self._direct.values()

    def known_direct(self, user_id: str) -> str | None:
        """The room shared with one person if this process knows it already (no query, no new room)."""
        return self._direct.get(user_id)

    async def direct(self, user_id: str) -> str:
        """The room shared with one person: the stored one, else a new one they are invited to."""
        if not user_id.startswith("@"):
            raise Undeliverable(f"{user_id!r} is not a Matrix user id")
        if user_id in self._direct:
            return self._direct[user_id]
        async with self._lock:
            if user_id in self._direct:
                return self._direct[user_id]
            stored = await asyncio.to_thread(self._stored, user_id)
            if stored:
                self._direct[user_id] = stored[0].room_id
                return stored[0].room_id
            # A rate limit's wait must not be waited aside while this lock is held: another row of the outbox batch,
            # given the turn, would wait for the lock, and this one for the turn (bot/outbox/adapter.py, waiting_aside).
            touched()
            made = await call(self.client, "room_create", is_direct=True, invite=[user_id], preset=RoomPreset.trusted_private_chat)
            return await self.remember(user_id, made.room_id)

    async def remember(self, user_id: str, room_id: str) -> str:
        """Keep a direct room (made by us, or one the person invited us to); another replica's, if it was first."""
        kept = await asyncio.to_thread(self._keep, user_id, room_id)
        self._direct[user_id] = kept
        return kept

    def _stored(self, user_id: str | None = None) -> list[MatrixDirect]:
        with session(self.engine) as db:
            query = select(MatrixDirect).where(MatrixDirect.account == self.account)
            if user_id is not None:
                query = query.where(MatrixDirect.user_id == user_id)
            return list(db.exec(query))

    def _keep(self, user_id: str, room_id: str) -> str:
        """They invited us to a new room: that is the room they read now; another replica's, if it stored one first."""
        values = {"account": self.account, "user_id": user_id, "room_id": room_id}
        return store_or_update(self.engine, MatrixDirect, (self.account, user_id), values, theirs_on_clash=True).room_id
