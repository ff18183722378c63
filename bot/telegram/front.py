"""Telegram in: group and private commands, inline buttons and replies become neutral commands.

A python-telegram-bot Application runs inside OneVoice's own loop: updates come from long polling
(bot/telegram_poller.py), or from `POST /telegram/webhook` when a webhook secret is set (bot/telegram_webhook.py).
Either way an update is decided and committed (`decide_update`, bot/telegram/updates.py) before Telegram is told it arrived.
"""

import asyncio
import logging
import time
from functools import cached_property

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot.app import OneVoice, learn_alias
from bot.outbox.unsettled import Unsettled
from bot.outbox.unsure import UnsureCommits
from bot.telegram.asking import answer_query, ask, short
from bot.telegram.edits import EditedCommands
from bot.telegram.limits import GROUP_RATE, IncidentFirstLimiter
from bot.telegram.prompts import PromptDesk
from bot.telegram.render import keyboard, split, to_html
from bot.telegram.updates import UNSURE
from handlers.catalog import registry
from handlers.core.effects import Answer
from handlers.core.ports import Command, Reply, RoomRef, UserRef
from handlers.router import UNREACHABLE, AnswerRoute, Held
from handlers.text import markup
from handlers.text.i18n import _, speaking

log = logging.getLogger(__name__)

PLATFORM = "telegram"
NAME_RECHECK = 600  # seconds a remembered user name is trusted before it is stored again


def build_application(token: str, api_url: str, group_rate: int = GROUP_RATE) -> Application:
    """PTB wired to the configured Bot API base, within Telegram's limits (30 messages/s overall, `group_rate`/min per group)."""
    builder = Application.builder().token(token).base_url(api_url).rate_limiter(IncidentFirstLimiter(group_rate))
    return builder.updater(None).build()  # no PTB Updater: it would confirm an update to Telegram before it is decided


class TelegramFront:
    """PTB handlers that translate updates into commands and answers; they never decide."""

    def __init__(self, bot: OneVoice, application: Application, on_work=None):
        self.bot, self.application = bot, application
        self.on_work = on_work or (lambda: None)
        self._names: dict[int, tuple[str, float]] = {}  # user id -> (user name last remembered, when): spares the database
        self.unsettled = Unsettled(bot.engine, PLATFORM, bot.worker)
        self.unsure = UNSURE[application] = UnsureCommits(bot.deps.clock, bot.config.language)
        names = ["crisis", *registry().verbs]  # `/crisis <verb>` and each verb on its own, also as /verb@botname
        new = filters.UpdateType.MESSAGE  # an edited message is never a new command (PTB's default would run it again)
        application.add_handler(CommandHandler(names, self.on_command, filters=new))
        application.add_handler(CallbackQueryHandler(self.on_button))
        application.add_handler(MessageHandler(new & filters.REPLY & filters.TEXT & ~filters.COMMAND, self.on_reply))
        application.add_handler(MessageHandler(filters.UpdateType.EDITED, EditedCommands(bot, application.bot).on_edit))

    async def register_commands(self) -> None:
        """The command menu, in English and Chinese."""
        for language in ("en", "zh"):
            with speaking(language):
                menu = [BotCommand("crisis", _("Run a crisis response: /crisis help"))]
                menu += [BotCommand(name, _(spec.summary)[:256]) for name, spec in registry().verbs.items()]
            await self.application.bot.set_my_commands(menu[:100], language_code=None if language == "en" else language)

    async def on_command(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """`/crisis <verb> …` or `/<verb> …`."""
        message = update.effective_message
        words = _with_mentions(message).split(maxsplit=1)
        verb = words[0].lstrip("/").split("@", 1)[0].lower()
        rest = words[1] if len(words) > 1 else ""
        text = rest if verb == "crisis" else f"{verb} {rest}".strip()
        await self._run(update, text)

    async def on_button(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """An inline button: its data is a command, untrusted like anything typed; `?command` asks the presser for a reason."""
        query = update.callback_query
        data = query.data or ""
        if update.effective_user is None or not self.prompts.presses.take(update.effective_user.id):
            with speaking(self.bot.config.language):  # a flood of presses: touch nothing, but never leave one unexplained
                await answer_query(query, _("Too many presses at once; this one did nothing. Press it again in a few seconds."))
            return
        if data.startswith("?"):
            serves = update.effective_chat is not None and self._serves(update.effective_chat.id, update.effective_chat.type)
            await ask(update, data[1:], self.prompts, self.application.bot, self.bot.config.language, serves)
            return
        reply = await self._run(update, data, answer_in_chat=False)
        if reply is not None and reply.duplicate:
            return  # the same press delivered again: it was answered the first time
        shown = reply.message.plain() if reply else ""
        await answer_query(query, short(shown) or None)

    @cached_property
    def prompts(self) -> PromptDesk:
        """The questions asked and their rations (made on first use, with the application's own rate limiter)."""
        limiter = getattr(self.application.bot, "rate_limiter", None)
        return PromptDesk(self.bot, limiter if isinstance(limiter, IncidentFirstLimiter) else None)

    async def on_reply(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """A reply to one of the bot's questions completes its command: only from the person asked, once, in time."""
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        asked = message.reply_to_message
        if asked is None or user is None or chat is None or asked.from_user is None or asked.from_user.id != self.application.bot.id:
            return
        try:
            outcome, command = await asyncio.to_thread(
                self.prompts.claim, user.id, chat.id, asked.message_id, f"telegram:{update.update_id}"
            )
        except UNREACHABLE:  # as a command: unacknowledged, to come again, until nobody could tell for too long
            told = self.unsure.unreachable(f"telegram:{update.update_id}")
            await self._tell_privately(user.id, told.message.plain())
            return
        if outcome == "run":
            await self._run(update, f"{command} {message.text.strip()}")
        elif outcome == "gone" and self.prompts.refusals.take(user.id):
            with speaking(self.bot.config.language):
                told = _("That question was answered already or has expired; press the button again.")
            await self._tell_privately(user.id, told)

    async def _learn_name(self, user) -> None:
        """Remember the user name a member writes under (stored for every replica); checked again after a while, since
        another replica may have stored a newer one meanwhile."""
        known = self._names.get(user.id)
        if not user.username or (known and known[0] == user.username and time.monotonic() - known[1] < NAME_RECHECK):
            return
        try:
            await asyncio.to_thread(learn_alias, self.bot.engine, PLATFORM, str(user.id), user.username, self.bot.config.team.people)
            self._names[user.id] = (user.username, time.monotonic())
        except UNREACHABLE:
            pass  # learned on a later update; the command itself answers that the database is unreachable

    async def _is_member(self, user_id: int) -> bool:
        try:
            return await asyncio.to_thread(self.prompts.is_member, user_id)
        except UNREACHABLE:
            return False  # unsure: a refusal stays private

    async def _tell_privately(self, user_id: int, text: str) -> bool:
        """A DM; False when the person never started the bot."""
        try:
            await self.application.bot.send_message(user_id, text)
            return True
        except TelegramError as error:
            log.info("could not tell %s privately: %s", user_id, error)
            return False

    async def _run(self, update: Update, text: str, answer_in_chat: bool = True) -> Reply | None:
        user = update.effective_user
        chat = update.effective_chat
        if user is None or chat is None:
            return None
        message = update.effective_message
        if not self._serves(chat.id, chat.type):
            with speaking(self.bot.config.language):
                refusal = _("This group is not set up for OneVoice: use the crisis group, or message me privately.")
            if answer_in_chat and message is not None:
                await message.reply_text(refusal)
            return Reply(markup.text(refusal), ok=False, outcome="refused")  # `text` is the typed command here
        thread = message.message_thread_id if message is not None and message.is_topic_message else None
        room = RoomRef(PLATFORM, str(chat.id), None if thread is None else str(thread), direct=chat.type == "private")
        await self._learn_name(user)
        command = Command(UserRef(PLATFORM, str(user.id), user.username or ""), text, room, f"telegram:{update.update_id}")
        untils: list = []  # the lease its held answer is written under: how that answer is found if the commit is unconfirmed
        route = self._answer_route(user.id, chat.id, thread, message.message_id if message else None, untils) if answer_in_chat else None
        earlier = self.unsettled.earlier(command.event_id)
        reply = await asyncio.to_thread(self.bot.handle, command, route)
        if seen := self.unsettled.unconfirmed(command.event_id, reply, untils, earlier):  # one true answer, or none yet
            reply = await self.unsure.settle(self.unsettled, command.event_id, reply, seen)
        elif reply.unreachable:
            reply = self.unsure.unreachable(command.event_id)  # raises until UNSURE_FOR has passed
        if answer_in_chat and not (reply.echoed or reply.answer_queued or reply.duplicate or reply.quiet):  # nothing was written
            if reply.unreachable:  # said privately, never in a group: the database could not tell a member from an outsider
                await self._tell_privately(user.id, reply.message.plain())
            else:
                await self._answer(reply, user.id, chat.id, thread, message.message_id if message else None)
        deliverer, held = self.bot.deliverers.get(PLATFORM), reply.answer_held
        if held is not None and deliverer is not None:  # sent at once by this worker, which holds it; retried if it fails
            await deliverer.deliver_held(held)
        if reply.work:  # what else it queued goes out in a delivery pass, after this update is confirmed
            asyncio.get_running_loop().call_soon(self.on_work)
        return reply

    def _answer_route(self, user_id: int, chat_id: int, thread: int | None, reply_to: int | None, untils: list) -> AnswerRoute:
        """Where the answer goes, as an Answer effect written with the command (so a failing sendMessage is retried and a
        crash after the commit loses nothing); none for a stream of refusals to one stranger: the first few said it."""
        refusals, members, bot = self.prompts.refusals, self.bot.deps.members, self.bot
        held = PLATFORM in bot.deliverers  # this worker sends it at once, so it holds it from the start

        def route(reply: Reply) -> Answer | Held | None:
            refused = not reply.ok and reply.outcome == "refused"
            if refused and not refusals.take(user_id) and (PLATFORM, str(user_id)) not in members:
                reply.quiet = True
                return None
            answer = Answer(
                reply.message,
                to=str(user_id),
                private=reply.private,
                channel=str(chat_id),
                thread=thread,
                reply_to=reply_to,
                refused=refused,
            )
            if not held:
                return answer
            untils.append(until := bot.deps.clock.now() + bot.lease)
            return Held(answer, bot.worker, until)

        return route

    def _serves(self, chat_id: int, chat_type: str) -> bool:
        """Private chats, the crisis group, and the triage and stakeholder rooms named in the config."""
        if chat_type == "private":
            return True
        config = self.bot.config
        rooms = [config.telegram.crisis_group, *(r.telegram for r in [config.triage_room, *config.stakeholder_rooms] if r is not None)]
        return str(chat_id) in {str(room) for room in rooms if room is not None}

    async def _answer(self, reply: Reply, user_id: int, chat_id: int, thread: int | None, reply_to: int | None) -> None:
        """An answer sent at once, when nothing could be written (the database is unreachable): by DM if private, else
        in the group — except refusals: by DM only, never in the group; to strangers only a few a minute. Best effort."""
        refused = not reply.ok and reply.outcome == "refused"
        if refused and not self.prompts.refusals.take(user_id) and not await self._is_member(user_id):
            return  # a stream of refusals to one stranger: the first few said it
        targets = [(user_id, None, None)] if reply.private and chat_id != user_id else []
        targets.append((chat_id, thread, reply_to))
        for target, target_thread, replying in targets:
            if refused and target != user_id:
                log.info("a refusal to %s stays out of chat %s (no DM possible)", user_id, chat_id)
                return
            try:
                pieces = split(to_html(reply.message)) or [" "]
                for i, piece in enumerate(pieces):
                    await self.application.bot.send_message(
                        target,
                        piece,
                        parse_mode=ParseMode.HTML,
                        message_thread_id=target_thread,
                        reply_to_message_id=replying,
                        reply_markup=keyboard(reply.message) if i == len(pieces) - 1 else None,  # buttons once, under the last piece
                        disable_web_page_preview=True,
                    )
                return
            except TelegramError as error:  # the person never started the bot: answer where they asked
                log.info("could not answer on %s: %s", target, error)


def _with_mentions(message) -> str:
    """The text with text-mentions (people without a username) written as @<user id>, which the team model maps."""
    text = message.text or ""
    for entity in sorted(message.entities or [], key=lambda e: e.offset, reverse=True):
        if entity.type == "text_mention" and entity.user is not None:
            start, end = _utf16_span(text, entity.offset, entity.length)
            text = f"{text[:start]}@{entity.user.id}{text[end:]}"
    return text


def _utf16_span(text: str, offset: int, length: int) -> tuple[int, int]:
    """Telegram counts entity offsets in UTF-16 code units; Python strings count code points."""
    units, start, end = 0, None, None
    for index, char in enumerate(text):
        if units == offset:
            start = index
        units += 2 if ord(char) > 0xFFFF else 1
        if units == offset + length:
            end = index + 1
            break
    return (start or 0), (end or len(text))
