"""Matrix in: a room message starting with `!crisis` (in a direct room the prefix may be left out) becomes a neutral
command, decided and committed before the sync token moves past it (bot/matrix/sync.py); invitations are accepted only
to the configured rooms, and to direct rooms from team members."""

import asyncio
import logging
import re
from collections import OrderedDict
from datetime import datetime
from html.parser import HTMLParser
from urllib.parse import unquote

from nio import AsyncClient

from bot.app import OneVoice
from bot.matrix import render
from bot.matrix.client import call
from bot.matrix.rooms import Rooms, commanding, configured
from bot.matrix.settle import CommitUnknown, landed
from bot.outbox.adapter import RetryLater, Undeliverable
from bot.rations import TokenBuckets
from handlers.core.effects import Answer
from handlers.core.ports import Command, Reply, RoomRef, UserRef
from handlers.router import UNREACHABLE, AnswerRoute, Held

log = logging.getLogger(__name__)

PLATFORM = "matrix"
_USER_ID = re.compile(r"@[a-zA-Z0-9._=/+-]+:[a-zA-Z0-9.-]+(?::\d+)?")
_PILL = re.compile(r"^https://matrix\.to/#/((?:@|%40)[^/?]+)")
_PREFIXED = re.compile(re.escape(render.PREFIX) + r"(?:\s+(.*)|$)", re.IGNORECASE | re.DOTALL)
_REPLY, _REPLY_END = re.compile(r"<mx-reply\b", re.IGNORECASE), re.compile(r"</mx-reply\s*>", re.IGNORECASE)
TOLD_KEPT = 1000  # events told "nothing was changed", or unsettled, remembered; the oldest forgotten first
_VOID = {"br", "img", "hr", "input", "meta", "link", "wbr"}


class MatrixFront:
    """Turns timeline events and invitations into commands and joins; it never decides."""

    def __init__(self, bot: OneVoice, client: AsyncClient, rooms: Rooms, on_work=None):
        self.bot, self.client, self.rooms = bot, client, rooms
        self.on_work = on_work or (lambda: None)
        self.refusals = TokenBuckets(burst=3, per_minute=6)  # answers to one stranger: the first few say it
        self.allowed: set[str] = set()  # the configured rooms' ids: the only rooms joined on invitation
        # Events answered "nothing was changed" (nothing could be written): the token cannot be stored either, so the batch
        # comes again; they are decided already and never run later, when the person may have typed them again.
        self.told_nothing: OrderedDict[str, None] = OrderedDict()
        self.unsettled: OrderedDict[str, list[datetime]] = OrderedDict()  # event id → the leases of its unconfirmed answers

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
        """Decide one timeline event: a command is handled to completion (committed); anything else is let be."""
        content = _object(event.get("content"))
        sender, event_id = event.get("sender"), event.get("event_id")
        if event.get("type") != "m.room.message" or sender == self.client.user_id or not sender or not event_id:
            return None
        if event_id in self.told_nothing:
            return None
        if content.get("msgtype") != "m.text" or _object(content.get("m.relates_to")).get("rel_type") == "m.replace":
            return None  # an edit of a command is never a second command
        direct = self.rooms.is_direct(room_id)
        typed = command_text(content, direct)
        if typed is None:
            return None  # chatter between people
        if not (direct or await self._serves(room_id)):
            log.info("a command in Matrix room %s, where the bot takes none (a broadcast target, the space), let be", room_id)
            return None  # such a room may be public: nothing is answered there, not even a refusal
        user = UserRef(PLATFORM, str(sender), str(sender))
        command = Command(user, self._members_named(typed), RoomRef(PLATFORM, room_id, direct=direct), f"matrix:{event_id}")
        untils: list[datetime] = []  # the leases of answers being committed with the command: how its answer is found
        earlier = self.unsettled.pop(command.event_id, [])  # an earlier try's, whose commit could not be confirmed
        reply = await asyncio.to_thread(self.bot.handle, command, self._answer_route(str(sender), room_id, untils))
        unknown = [] if reply.answer_queued or reply.quiet or (reply.duplicate and not earlier) else untils + earlier
        if unknown and not reply.echoed:
            await self._settle(command.event_id, reply, unknown)  # a commit failed on its way: it may have landed
        if not (reply.echoed or reply.answer_queued or reply.duplicate or reply.quiet):
            await self._answer_now(reply, room_id)  # nothing was written (the database is unreachable)
            self.told_nothing[str(event_id)] = None
            while len(self.told_nothing) > TOLD_KEPT:
                self.told_nothing.popitem(last=False)
        deliverer, held = self.bot.deliverers.get(PLATFORM), reply.answer_held
        if held is not None and deliverer is not None:  # sent at once by this worker, which holds it; retried if it fails
            await deliverer.deliver_held(held)
        if reply.work:
            asyncio.get_running_loop().call_soon(self.on_work)
        return reply

    async def _serves(self, room_id: str) -> bool:
        """An incident room, or a configured crisis, triage or stakeholder room (an alias resolved when first needed)."""
        named = commanding(self.bot.config)
        if room_id in named or await self.rooms.is_incident(room_id):
            return True
        for room in (r for r in named if r.startswith("#")):
            try:
                if await self.rooms.resolve(room) == room_id:
                    return True
            except (RetryLater, Undeliverable) as problem:
                log.warning("could not resolve the Matrix room %s: %s", room, problem)
        return False

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
            key = members.get((PLATFORM, match.group(0)))
            return f"@{key}" if key else match.group(0)

        return _USER_ID.sub(named, text)

    async def _settle(self, event_id: str, reply: Reply, untils: list[datetime]) -> None:
        """Make the reply true: the command's own held answer if its commit landed, else the failure as it is; raises
        CommitUnknown while the database cannot say (the batch comes again)."""
        try:
            committed, answer = await asyncio.to_thread(landed, self.bot.engine, event_id, self.bot.worker, untils)
        except UNREACHABLE as error:
            self.unsettled[event_id] = untils
            while len(self.unsettled) > TOLD_KEPT:
                self.unsettled.popitem(last=False)
            raise CommitUnknown(event_id) from error
        if committed:  # None: sent already, or its lease ran out and the outbox sends it
            log.info("the commit of %s landed although its acknowledgement was lost: its own answer is sent", event_id)
            reply.answer_queued, reply.answer_held = True, answer

    def _answer_route(self, user_id: str, room_id: str, untils: list[datetime]) -> AnswerRoute:
        """The answer as an Answer effect written with the command (a failing send is retried, a crash after the commit
        loses nothing); none for a stream of refusals to one stranger."""
        bot, refusals = self.bot, self.refusals
        held = PLATFORM in bot.deliverers  # this worker sends it at once, so it holds it from the start

        def route(reply: Reply) -> Answer | Held | None:
            refused = not reply.ok and reply.outcome == "refused"
            if refused and (PLATFORM, user_id) not in bot.deps.members and not refusals.take(user_id):
                reply.quiet = True
                return None
            answer = Answer(reply.message, to=user_id, private=reply.private, channel=room_id, refused=refused)
            if not held:
                return answer
            untils.append(until := bot.deps.clock.now() + bot.lease)
            return Held(answer, bot.worker, until)

        return route

    async def _answer_now(self, reply: Reply, room_id: str) -> None:
        """An answer sent at once when nothing could be written; best effort."""
        try:
            await call(self.client, "room_send", room_id, "m.room.message", render.content(reply.message, msgtype="m.notice"))
        except (RetryLater, Undeliverable) as problem:
            log.info("could not answer in Matrix room %s: %s", room_id, problem)


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

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0  # inside <mx-reply> (the quoted message) or a pill whose text is replaced

    def handle_starttag(self, tag, attrs):
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

    def handle_endtag(self, tag):
        if self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)

    def text(self) -> str:
        return "".join(self.parts)
