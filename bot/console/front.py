"""The console: a terminal chat with the bot, typed as in Slack, scriptable through stdin."""

import asyncio
import sys
import unicodedata
from typing import TextIO

from sqlmodel import select

from bot.app import OneVoice
from bot.outbox.scheduler import NudgeScheduler
from handlers.catalog import registry
from handlers.core.cleaning import DISGUISING, keyword
from handlers.core.effects import OpenRoom
from handlers.core.ports import Command, Reply, RoomRef, UserRef
from handlers.text.i18n import _, speaking
from handlers.text.markup import Message
from handlers.text.markup import text as text_message
from storage.db import session
from storage.models import Room

PLATFORM = "console"
LOBBY = "lobby"


def printable(text: str) -> str:
    """Text safe for a terminal: no escape sequence, bell or bidi override, even from rows stored before cleaning."""
    return "".join(ch for ch in text if ch in "\n\t" or (unicodedata.category(ch) != "Cc" and ch not in DISGUISING))


def render(message: Message, bold: bool = False) -> str:
    """Plain text for a terminal, as typed (a statement's `*` stays a `*`); bold in ANSI when the output is a terminal."""
    parts = []
    for span in message.spans:
        if span.style == "b" and bold:
            parts.append(f"\033[1m{printable(span.text)}\033[0m")
        else:
            parts.append(printable(span.text))
    body = "".join(parts)
    for button in message.buttons:
        more = f" <{button.prompt}>" if button.prompt else ""
        body += printable(f"\n  [{button.label}] → /crisis {button.command}{more}")
    return body


class ConsoleAdapter:
    """Delivers effects by printing them, each with the room it went to."""

    platform = PLATFORM

    def __init__(self, out: TextIO):
        self.out = out
        self.bold = out.isatty()
        self._sent = 0

    def show(self, where: str, message: Message | str) -> dict:
        body = message if isinstance(message, str) else render(message, self.bold)
        indented = body.replace("\n", "\n    ")
        self.out.write(f"[{where}] {indented}\n")
        self._sent += 1
        return {"message_id": str(self._sent)}

    async def open_room(self, room: Room, effect: OpenRoom, card: Message) -> dict:
        self.show(f"#{room.name}", _("room opened: {topic}").format(topic=printable(effect.topic)))
        sent = self.show(f"#{room.name}", "📌 " + render(card, self.bold))
        return {"external_id": room.name, "card_message_id": sent["message_id"]}

    async def post(self, room: Room | None, to: str | None, message: Message) -> dict:
        return self.show(f"#{room.name}" if room else f"#{to}", message)

    async def edit_card(self, room: Room, card: Message) -> dict:
        return self.show(f"#{room.name}", _("📌 card updated: ") + render(card, self.bold).split("\n", 1)[0])

    async def invite(self, room: Room, users: list[str]) -> dict:
        return self.show(f"#{room.name}", _("invited ") + ", ".join(f"@{u}" for u in users))

    async def dm(self, to: str, message: Message) -> dict:
        return self.show(f"DM → {to}", message)

    async def pin(self, room: Room, message_id: str | None, message: Message) -> dict:
        label = _("📌 pinned: ") if message_id is None else _("📌 pinned message updated: ")
        sent = self.show(f"#{room.name}", label + render(message, self.bold))
        return {"message_id": message_id or sent["message_id"]}

    async def publish(self, to: str, text: str) -> dict:
        return self.show(f"#{to}", printable(text))

    async def edit_message(self, to: str, message_id: str, message: Message) -> dict:
        self.show(f"#{to}", _("(message updated) ") + render(message, self.bold))
        return {"message_id": message_id}


class Console:
    """A terminal session: who is typing, in which room, and the bot answering."""

    def __init__(self, bot: OneVoice, speaker: str, out: TextIO):
        self.bot, self.speaker, self.out, self.room = bot, speaker, out, LOBBY
        self.adapter = ConsoleAdapter(out)
        bot.attach(self.adapter)
        self._count = 0

    async def run_line(self, line: str) -> None:
        """Handle one typed line: a `:` directive or a command."""
        with speaking(self.bot.config.language):
            await self._run_line(line)

    async def _run_line(self, line: str) -> None:
        line = line.rstrip("\n")
        if not line.strip():
            return
        if line.startswith(":"):
            self._directive(line[1:].strip())
            return
        text = line.strip()
        command_name = self.bot.config.slack.command
        if text.split(maxsplit=1)[0] == command_name:
            text = text[len(command_name) :]
        elif text.startswith("/"):
            text = text[1:]  # `/status` works as in Telegram
        else:
            word = keyword(text.split(maxsplit=1)[0])
            verb = registry().verbs.get(registry().aliases.get(word, ""))
            if verb is None:
                return  # chatter between people; the bot stays quiet
            if verb.changes and verb.name != "declare":  # "resolve it asap" is chatter until it has its slash
                hint = _("Not run: a line without the slash that starts with “{word}” reads as chat. To run it: /{line}")
                self.adapter.show(f"bot → {self.speaker}", text_message(hint.format(word=word, line=f"{command_name.lstrip('/')} {text}")))
                return
        self._count += 1
        command = Command(UserRef(PLATFORM, self.speaker), text, RoomRef(PLATFORM, self.room))
        reply = await asyncio.to_thread(self.bot.handle, command)
        self._show_reply(reply)
        await self.bot.deliver()
        self._follow(reply)

    def _show_reply(self, reply: Reply) -> None:
        if not reply.echoed:  # the room post that follows says the same thing
            self.adapter.show(f"bot → {self.speaker}", reply.message)

    def _follow(self, reply: Reply) -> None:
        """After declaring, the declarer is taken into the new room, as a chat app would."""
        if reply.ok and reply.declared:
            with session(self.bot.engine) as db:
                name = db.exec(select(Room.name).where(Room.incident_id == reply.incident_id, Room.platform == PLATFORM)).first()
            if name:
                self.room = name
                self.out.write(_("(you are now in #{name})").format(name=name) + "\n")

    def _directive(self, directive: str) -> None:
        word, _sep, arg = directive.partition(" ")
        if word == "as" and arg.strip():
            name = arg.strip().lstrip("@")
            if name not in self.bot.config.team.people:
                self.out.write(
                    _("(no team member {name}; team: {team})").format(name=name, team=", ".join(self.bot.config.team.people)) + "\n"
                )
                return
            self.speaker = name
            self.out.write(_("(now typing as {name})").format(name=name) + "\n")
        elif word == "room":
            wanted, rooms = printable(arg.strip().lstrip("#"))[:80] or LOBBY, self.rooms()
            if wanted not in rooms:
                self.out.write(_("(there is no room #{room}; rooms: {rooms})").format(room=wanted, rooms=", ".join(rooms)) + "\n")
                return
            self.room = wanted
            self.out.write(_("(now in #{room})").format(room=self.room) + "\n")
        else:
            self.out.write(_("(directives: `:as NAME` switches the speaker, `:room NAME` the room, `:room` the lobby)") + "\n")

    def rooms(self) -> list[str]:
        """The rooms one can be in: the lobby, each incident's room, and the rooms the config names for the console."""
        with session(self.bot.engine) as db:
            opened = list(db.exec(select(Room.name).where(Room.platform == PLATFORM).order_by(Room.id)))
        config = self.bot.config
        named = [t.console for t in config.broadcast] + [r.console for r in [config.triage_room, *config.stakeholder_rooms] if r]
        return list(dict.fromkeys([LOBBY, *opened, *(str(n) for n in named if n)]))

    def welcome(self) -> str:
        """The first line a person sees: who they are, where, and three commands to start with."""
        name = self.bot.config.team.people[self.speaker].name
        return _("Welcome to OneVoice, {name}. You are in #{room}. Start with: {help} · {declare} · {status}. Ctrl-D leaves.").format(
            name=name, room=self.room, help="help", declare=_("declare product-quality sev2 <what happened>"), status="status"
        )

    def prompt(self) -> str:
        """The prompt shown before each line."""
        return f"{self.speaker} @ #{self.room}> "


async def run_console(bot: OneVoice, speaker: str, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> None:
    """Read lines until end of input; on a terminal with line editing and history, else as a script; reminders fire meanwhile."""
    if stdin.isatty() and out is sys.stdout and out.isatty():
        from prompt_toolkit.patch_stdout import patch_stdout

        with patch_stdout(raw=True):  # a reminder printed while the person types lands above their line
            await _serve(Console(bot, speaker, sys.stdout), bot, lambda console, scheduler: _read_terminal(console, scheduler))
        return
    await _serve(Console(bot, speaker, out), bot, lambda console, scheduler: _read_lines(console, scheduler, stdin, out))


async def _serve(console: Console, bot: OneVoice, read) -> None:
    scheduler = NudgeScheduler(bot)
    with speaking(bot.config.language):
        await bot.deliver()
        await scheduler.run()  # what fell due while the bot was down fires now, once
    scheduler.start()
    try:
        await read(console, scheduler)
    finally:
        await scheduler.stop()


async def _read_terminal(console: Console, scheduler: NudgeScheduler) -> None:
    """A terminal: arrow keys edit and recall lines; Ctrl-C and Ctrl-D leave at once."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import InMemoryHistory

    with speaking(console.bot.config.language):
        console.out.write(console.welcome() + "\n")
    typing = PromptSession(history=InMemoryHistory())
    while True:
        try:
            line = await typing.prompt_async(console.prompt())
        except (EOFError, KeyboardInterrupt):
            break
        await console.run_line(line)
        scheduler.poke()
        console.out.flush()


async def _read_lines(console: Console, scheduler: NudgeScheduler, stdin: TextIO, out: TextIO) -> None:
    """A script (or a plain pipe): each line echoed after the prompt, as typed."""
    while True:
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            break
        out.write(f"{console.prompt()}{printable(line.rstrip())}\n")
        await console.run_line(line)
        scheduler.poke()
        out.flush()
