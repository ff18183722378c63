"""Matrix as a delivery target: incident rooms are rooms in the space; the card and the line are pinned and edited in place."""

import hashlib
import json
import logging
import uuid

from nio import AsyncClient, RoomPreset

from bot.matrix import render
from bot.matrix.client import call
from bot.matrix.rooms import Rooms
from bot.outbox.adapter import RetryLater, Undeliverable, pin_soon, resumed
from config.model import Config
from handlers.core.effects import Answer, OpenRoom
from handlers.text.markup import Message
from storage.models import Room

log = logging.getLogger(__name__)

PLATFORM = "matrix"
PINNED = "m.room.pinned_events"


class MatrixAdapter:
    """Delivers effects to incident rooms in the space, to people's direct rooms, and to configured rooms."""

    platform = PLATFORM

    def __init__(self, client: AsyncClient, config: Config, rooms: Rooms):
        self.client, self.config, self.rooms = client, config, rooms
        # `@key` in a message becomes a pill for that member's Matrix id
        self.pills = {p.key: p.matrix for p in config.team.people.values() if p.matrix}

    @property
    def _server(self) -> str:
        """The bot's own server: where others join its rooms through (room version 12 ids name no server)."""
        return self.client.user_id.split(":", 1)[1]

    async def _send(self, room_id: str, content: dict) -> str:
        """Send one event. A retry of the same content reuses the transaction id (kept as progress), so a send whose
        answer was lost (a timeout, a 502 from a proxy) is not posted twice: the homeserver answers it from its cache."""
        of = hashlib.sha256(json.dumps([room_id, content], sort_keys=True).encode()).hexdigest()[:24]
        earlier = resumed().get("pieces") or {}
        txn = (earlier.get("txn") if earlier.get("of") == of else None) or uuid.uuid4().hex
        try:
            sent = await call(self.client, "room_send", room_id, "m.room.message", content, tx_id=txn)
        except RetryLater as wait:
            wait.progress = {**wait.progress, "pieces": {"of": of, "txn": txn}}
            raise
        return sent.event_id

    async def _say(self, room_id: str, message: Message, msgtype: str = "m.text") -> str:
        return await self._send(room_id, render.content(message, self.pills, msgtype))

    async def open_room(self, room: Room, effect: OpenRoom, card: Message) -> dict:
        """A room in the space named like Slack's channel (`drill-…` for drills), the card posted and pinned; a retry
        resumes from what exists (kept as progress), never making a second room or card."""
        progress: dict = {}
        try:
            room_id = room.external_id or await self._create(room, effect)
            progress["external_id"] = room_id
            await self._into_space(room_id)
            card_id = room.card_message_id or await self._say(room_id, card)
            progress["card_message_id"] = card_id
        except RetryLater as wait:
            wait.progress = {**wait.progress, **progress}
            raise
        await pin_soon(self._pin, room_id, card_id)
        return {"external_id": room_id, "card_message_id": card_id}

    async def _create(self, room: Room, effect: OpenRoom) -> str:
        space = await self._space()
        state = []
        if space:
            state.append({"type": "m.space.parent", "state_key": space, "content": {"via": [self._server], "canonical": True}})
        made = await call(
            self.client, "room_create", name=room.name, topic=effect.topic[:500], preset=RoomPreset.private_chat, initial_state=state
        )
        return made.room_id

    async def _space(self) -> str | None:
        return await self.rooms.resolve(self.config.matrix.space) if self.config.matrix.space else None

    async def _into_space(self, room_id: str) -> None:
        """List the room in the space (idempotent: a retry sets the same state); without the right, the room still works."""
        space = await self._space()
        if not space:
            return
        try:
            await call(self.client, "room_put_state", space, "m.space.child", {"via": [self._server]}, state_key=room_id)
        except Undeliverable as refusal:
            log.warning("room %s is not listed in the space %s: %s (give the bot power level 50 there)", room_id, space, refusal)

    async def _pin(self, room_id: str, event_id: str) -> None:
        """Add an event to the room's pinned events (the card and the line are both pinned)."""
        try:
            found = await call(self.client, "room_get_state_event", room_id, PINNED)
            pinned = [str(e) for e in found.content.get("pinned") or []]
        except Undeliverable:  # M_NOT_FOUND: nothing pinned yet
            pinned = []
        if event_id not in pinned:
            await call(self.client, "room_put_state", room_id, PINNED, {"pinned": [*pinned, event_id]})

    async def _edit(self, room_id: str, event_id: str, message: Message) -> None:
        """Edit in place: an `m.replace` carrying the new content."""
        await self._send(room_id, render.replacement(event_id, render.content(message, self.pills)))

    async def post(self, room: Room | None, to: str | None, message: Message) -> dict:
        room_id = opened(room) if room is not None else await self._target(to or "")
        return {"message_id": await self._say(room_id, message), "channel": room_id}

    async def _target(self, to: str) -> str:
        """A configured room (id or alias), or a person's direct room."""
        return await self.rooms.direct(to) if to.startswith("@") else await self.rooms.resolve(to)

    async def edit_card(self, room: Room, card: Message) -> dict:
        return await self.pin(room, room.card_message_id, card)

    async def invite(self, room: Room, users: list[str]) -> dict:
        """Invite each responder; one already in the room (or unknown to the server) is logged, not retried. A retry
        invites only those not yet invited (kept as progress), so a rate limit midway repeats nothing."""
        room_id = opened(room)
        of = f"invite:{room_id}"
        earlier = resumed().get("pieces") or {}
        done = list(earlier.get("sent", [])) if earlier.get("of") == of else []
        skipped = []
        for user in users:
            if user in done:
                continue
            try:
                await call(self.client, "room_invite", room_id, user)
            except Undeliverable as refusal:
                log.info("did not invite %s to %s: %s", user, room_id, refusal)
                skipped.append(user)
            except RetryLater as wait:
                wait.progress = {**wait.progress, "pieces": {"of": of, "sent": done}}
                raise
            done.append(user)
        return {"invited": [u for u in done if u not in skipped], "skipped": skipped}

    async def dm(self, to: str, message: Message) -> dict:
        room_id = await self.rooms.direct(to)
        return {"message_id": await self._say(room_id, message), "channel": room_id}

    async def pin(self, room: Room, message_id: str | None, message: Message) -> dict:
        """Post and pin; once pinned, edit that message in place."""
        room_id = opened(room)
        if message_id:
            await self._edit(room_id, message_id, message)
            return {"message_id": message_id}
        posted = await self._say(room_id, message)
        await pin_soon(self._pin, room_id, posted)
        return {"message_id": posted}

    async def edit_message(self, to: str, message_id: str, message: Message) -> dict:
        room_id = to if to.startswith("!") else await self._target(to)
        await self._edit(room_id, message_id, message)
        return {"message_id": message_id}

    async def publish(self, to: str, text: str) -> dict:
        """The approved text as the plain body: no format, so every character reads exactly as approved."""
        room_id = await self.rooms.resolve(to)
        return {"message_id": await self._send(room_id, render.exact(text)), "channel": room_id}

    async def answer(self, effect: Answer) -> dict:
        """The answer to a typed command, as a notice (it does not ping). A private one or a refusal goes to the person's
        direct room (Matrix has no private replies in a room), as Telegram's does; one typed in that room stays there. A
        stranger has no direct room with the bot: their refusal, already reduced to one line, is said where they typed."""
        member = effect.to in self.pills.values()
        typed_in = effect.channel
        if typed_in is None or ((effect.private or effect.refused) and member and not self.rooms.is_direct(typed_in)):
            typed_in = await self.rooms.direct(effect.to)
        return {"message_id": await self._say(typed_in, effect.message, "m.notice"), "channel": typed_in}


def opened(room: Room) -> str:
    """The incident room's Matrix id; one not opened yet is waited for (the outbox opens it first, in the same lane)."""
    if not room.external_id:
        raise RetryLater(f"the Matrix room of incident {room.incident_id} is not open yet")
    return room.external_id
