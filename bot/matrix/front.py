"""Matrix in: a room message starting with `!crisis` (in a direct room the prefix may be left out) becomes a neutral
command, decided and committed before the sync token moves past it (bot/matrix/sync.py); invitations are accepted only
to the configured rooms, and to direct rooms from team members."""

import asyncio
import logging
import re
from collections import OrderedDict
from html.parser import HTMLParser
from urllib.parse import unquote

from nio import AsyncClient
from sqlmodel import select

from bot.app import OneVoice
from bot.matrix import render
from bot.matrix.client import call
from bot.matrix.rooms import Rooms, commanding, configured
from bot.outbox.adapter import RetryLater, Undeliverable
from bot.outbox.unsettled import Unsettled
from bot.outbox.unsure import UnsureCommits
from bot.rations import TokenBuckets
from handlers.core.effects import Answer
from handlers.core.ports import Command, Reply, RoomRef, UserRef
from handlers.router import UNREACHABLE, AnswerRoute, Held
from handlers.text.i18n import _
from handlers.text.markup import Message, fmt
from storage.db import session
from storage.models import Room

log = logging.getLogger(__name__)

PLATFORM = "matrix"
# a full user id; a sentence's final dot after it is no part of it (and is dropped with it when it names a member)
_USER_ID = re.compile(r"(@[a-zA-Z0-9._=/+-]+:[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*(?::\d+)?)(\.(?=\s|$))?")
_PILL = re.compile(r"^https://matrix\.to/#/((?:@|%40)[^/?]+)")
_PREFIXED = re.compile(re.escape(render.PREFIX) + r"(?:\s+(.*)|$)", re.IGNORECASE | re.DOTALL)
_REPLY, _REPLY_END = re.compile(r"<mx-reply\b", re.IGNORECASE), re.compile(r"</mx-reply\s*>", re.IGNORECASE)
DECIDED_KEPT = 5000  # events decided in this process, remembered; the oldest forgotten first (a batch comes again soon)
_VOID = {"br", "img", "hr", "input", "meta", "link", "wbr"}


class MatrixFront:
    """Turns timeline events and invitations into commands and joins; it never decides."""

    def __init__(self, bot: OneVoice, client: AsyncClient, rooms: Rooms, on_work=None):
        self.bot, self.client, self.rooms = bot, client, rooms
        self.on_work = on_work or (lambda: None)
        self.refusals = TokenBuckets(burst=3, per_minute=6)  # answers to one stranger: the first few say it
        self.room_refusals = TokenBuckets(burst=5, per_minute=10)  # and to strangers in one room: a crowd cannot flood it
        self.allowed: set[str] = set()  # the configured rooms' ids: the only rooms joined on invitation
        self.incident_rooms: set[str] = set()  # rooms found to be incident rooms (one stays one): no query for them again
        self.unsettled = Unsettled(bot.engine, PLATFORM, bot.worker)
        self.unsure = UnsureCommits(bot.deps.clock, bot.config.language)
        # Commands decided by this process. A batch comes again when a later event in it, or its token, meets the database
        # away: one carried out must not be run again then (its answer was given), and one told it could not be carried
        # out, or that nobody could tell, must never run later, when the person may have typed it again.
        self.decided: OrderedDict[str, None] = OrderedDict()

    async def join_configured(self) -> None:
        """Join the configured rooms (a no-op where joined already); one that cannot be joined is logged, not fatal."""
        for room in configured(self.bot.config):
            try:
                room_id = await self.rooms.resolve(room)
                self.allowed.add(room_id)
                await call(self.client, "join", room_id)
            except (RetryLater, Undeliverable) as problem:
                log.warning("could not join the configured Matrix room %s: %s", room, problem)

    async def on_event(self, room_id: str, event: dict) -> Reply | None:
        """Decide one timeline event: a command is handled to completion (committed); anything else is let be. Raises
        CommitUnknown while nobody can tell whether its commit landed: the sync token stays, the event comes again."""
        typed = self._typed(room_id, event)
        if typed is None:
            return None
        sender, event_id, direct = str(event["sender"]), str(event["event_id"]), self.rooms.is_direct(room_id)
        key = f"matrix:{event_id}"  # the router's dedup key
        try:
            serves = await self._serves(room_id, direct)
        except UNREACHABLE:  # only the database knows an incident room (the bot is in few others): as a command meeting it
            reply = self.unsure.unreachable(key)  # raises until UNSURE_FOR has passed: the sync token stays
        else:
            if not serves:
                self.unsure.forget(key)
                return None  # a room where the bot takes no commands: it says nothing there
            user, where = UserRef(PLATFORM, sender, sender), RoomRef(PLATFORM, room_id, direct=direct)
            reply = await self._handled(Command(user, self._members_named(typed), where, key), key, room_id)
        self._decided(event_id)  # before any await: whatever happens to the answer, the command is not run again
        self.unsure.forget(key)
        if not (reply.echoed or reply.answer_queued or reply.duplicate or reply.quiet):
            # Nothing was written (the database is unreachable). Where no direct room is known, the room it was typed in is
            # told, even one the database alone could say the bot serves (almost always an incident room): silence would
            # drop the command without a word, and keeping it would hold back every later command of the batch.
            await self._answer_now(reply, sender, room_id)
        deliverer, held = self.bot.deliverers.get(PLATFORM), reply.answer_held
        if held is not None and deliverer is not None:  # sent at once by this worker, which holds it; retried if it fails
            await deliverer.deliver_held(held)
        if reply.work:
            asyncio.get_running_loop().call_soon(self.on_work)
        return reply

    def seen(self, room_id: str, event: dict) -> None:
        """A fetched event, not decided yet: a command's UNSURE_FOR clock starts now, though commands before it may hold
        it back (the sync decides a batch in order, and fetches it again while one meets the database away)."""
        if self._typed(room_id, event) is not None:
            self.unsure.seen(f"matrix:{event['event_id']}")

    def _typed(self, room_id: str, event: dict) -> str | None:
        """What a person typed as a command in an event this process has not decided; None for anything else."""
        content = _object(event.get("content"))
        sender, event_id = event.get("sender"), event.get("event_id")
        if event.get("type") != "m.room.message" or sender == self.client.user_id or not sender or not event_id:
            return None
        if event_id in self.decided:
            return None
        if content.get("msgtype") != "m.text" or _object(content.get("m.relates_to")).get("rel_type") == "m.replace":
            return None  # an edit of a command is never a second command
        return command_text(content, self.rooms.is_direct(room_id))  # None: chatter between people

    async def _handled(self, command: Command, key: str, room_id: str) -> Reply:
        """The command decided and its one true answer; CommitUnknown while the database cannot say what became of it."""
        untils: list = []  # the lease its held answer is written under: how it is found if the commit is unconfirmed
        earlier = self.unsettled.earlier(key)
        route = self._answer_route(command.user.external_id, room_id, untils)
        reply = await asyncio.to_thread(self.bot.handle, command, route)
        if seen := self.unsettled.unconfirmed(key, reply, untils, earlier):  # one true answer, or none yet
            return await self.unsure.settle(self.unsettled, key, reply, seen)
        if reply.unreachable:  # an earlier run (before a restart, or on another replica) may have committed it
            return self.unsure.unreachable(key)  # raises until UNSURE_FOR has passed: the sync token stays
        return reply

    def _decided(self, event_id: str) -> None:
        """Remember a command as decided by this process (the oldest forgotten past DECIDED_KEPT)."""
        self.decided[event_id] = None
        while len(self.decided) > DECIDED_KEPT:
            self.decided.popitem(last=False)

    async def _serves(self, room_id: str, direct: bool) -> bool:
        """A direct room, an incident room, or a configured crisis, triage (its posts show commands to type) or stakeholder
        room, as on Telegram; an alias is resolved when first needed."""
        if direct or room_id in self.incident_rooms:
            return True
        for room in commanding(self.bot.config):
            try:
                if await self.rooms.resolve(room) == room_id:
                    return True
            except (RetryLater, Undeliverable) as problem:
                log.warning("could not resolve the Matrix room %s: %s", room, problem)
        if room_id in self.allowed:
            return False  # a configured room that takes none (the space, a broadcast target) is no incident room
        if await asyncio.to_thread(self._is_incident_room, room_id):  # raises while the database is away (on_event)
            self.incident_rooms.add(room_id)
            return True
        return False

    def _is_incident_room(self, room_id: str) -> bool:
        with session(self.bot.engine) as db:
            found = db.exec(select(Room.id).where(Room.platform == PLATFORM, Room.external_id == room_id)).first()
            return found is not None

    async def on_invite(self, room_id: str, state: list[dict]) -> None:
        """Join a configured room, or a direct room a team member opened with the bot; leave the rest unanswered."""
        invitation = next(
            (e for e in state if e.get("type") == "m.room.member" and e.get("state_key") == self.client.user_id),
            {},
        )
        inviter = str(invitation.get("sender") or "")
        direct = bool((invitation.get("content") or {}).get("is_direct"))
        member = (PLATFORM, inviter) in self.bot.deps.members
        try:
            log.debug("invitation to %s: %s", room_id, invitation)
            if room_id in self.allowed or (direct and member):
                await call(self.client, "join", room_id)
                if direct and member and room_id not in self.allowed:
                    await self.rooms.remember(inviter, room_id)
                log.info("joined Matrix room %s on %s's invitation", room_id, inviter)
            else:  # left unanswered: the bot speaks only where the team set it up, and tells a stranger nothing
                log.info("ignored the invitation of %s to Matrix room %s (direct: %s, member: %s)", inviter, room_id, direct, member)
        except (RetryLater, Undeliverable) as problem:
            log.warning("could not answer the invitation to Matrix room %s: %s", room_id, problem)

    def _members_named(self, text: str) -> str:
        """Each team member's full Matrix id written as `@<key>`, which the domain reads as a mention."""
        members = self.bot.deps.members

        def named(match: re.Match) -> str:
            key = members.get((PLATFORM, match.group(1)))
            return f"@{key}" if key else match.group(0)

        return _USER_ID.sub(named, text)

    def _answer_route(self, user_id: str, room_id: str, untils: list) -> AnswerRoute:
        """The answer as an Answer effect written with the command (a failing send is retried, a crash after the commit
        loses nothing); a stranger's refusal says only that, without the details; none for a stream of them."""
        bot, refusals, in_room = self.bot, self.refusals, self.room_refusals
        held = PLATFORM in bot.deliverers  # this worker sends it at once, so it holds it from the start

        def route(reply: Reply) -> Answer | Held | None:
            refused = not reply.ok and reply.outcome == "refused"
            message = reply.message
            if refused and (PLATFORM, user_id) not in bot.deps.members:
                if not (refusals.take(user_id) and in_room.take(room_id)):
                    reply.quiet = True
                    return None
                message = stranger_refusal(user_id)  # said in the room (Matrix has no private replies there)
            answer = Answer(message, to=user_id, private=reply.private, channel=room_id, refused=refused)
            if not held:
                return answer
            untils.append(until := bot.deps.clock.now() + bot.lease)
            return Held(answer, bot.worker, until)

        return route

    async def _answer_now(self, reply: Reply, user_id: str, room_id: str) -> None:
        """An answer sent at once when nothing could be written; best effort. A private one, or what is said of a command
        the database could not settle (as on Telegram), goes to the person's direct room when it is known (none can be
        made or looked up with the database away), else where they typed."""
        if (PLATFORM, user_id) not in self.bot.deps.members:
            return  # a stranger is told only through the route, rate-limited: an outage does not make the bot talk to them
        target = (self.rooms.known_direct(user_id) if reply.private or reply.unreachable else None) or room_id
        try:
            await call(self.client, "room_send", target, "m.room.message", render.content(reply.message, msgtype="m.notice"))
        except (RetryLater, Undeliverable) as problem:
            log.info("could not answer in Matrix room %s: %s", target, problem)


def stranger_refusal(user_id: str) -> Message:
    """What a stranger reads in the room: that they are not on the team, and nothing about how the team is set up."""
    return fmt(_("{user}: you are not on this team in OneVoice yet; ask a team admin to add you."), user=user_id)


def command_text(content: dict, direct: bool) -> str | None:
    """What follows `!crisis` (in a direct room, the whole text if it lacks the prefix); None when it is no command."""
    typed = readable(content).strip()
    prefixed = _PREFIXED.match(typed)
    if prefixed:
        return (prefixed.group(1) or "").strip()
    return typed if direct and typed else None


def readable(content: dict) -> str:
    """The text a person typed: pills written as the user ids they link to, a reply's quoted fallback left out."""
    body = str(content.get("body") or "")
    formatted = content.get("formatted_body")
    if content.get("format") == render.FORMAT and isinstance(formatted, str) and "matrix.to/#/" in formatted:
        if _REPLY.search(formatted):  # the quote ends at its last closing tag: the quoted HTML may close tags of its own
            formatted = _REPLY_END.split(formatted)[-1] if _REPLY_END.search(formatted) else ""
        reader = _PillReader()
        reader.feed(formatted)
        reader.close()
        return reader.text()
    if _object(content.get("m.relates_to")).get("m.in_reply_to") and body.startswith("> "):
        body = body.split("\n\n", 1)[1] if "\n\n" in body else ""
    return body


def _object(value) -> dict:
    """A JSON object field as a dict; anything else a client put there (a string, a list) as an empty one."""
    return value if isinstance(value, dict) else {}


class _PillReader(HTMLParser):
    """Text from a formatted body: a pill as its user id, `<br>` and paragraphs as line breaks, a reply's quote dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0  # inside <mx-reply> (the quoted message) or a pill whose text is replaced

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skipping:
            self.skipping += tag not in _VOID
            return
        href = dict(attrs).get("href") or ""
        pill = _PILL.match(href) if tag == "a" else None
        if tag == "mx-reply":
            self.skipping = 1
        elif pill:
            self.parts.append(unquote(pill.group(1)))
            self.skipping = 1
        elif tag in ("br", "p", "div") and self.parts:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)

    def text(self) -> str:
        return "".join(self.parts)
