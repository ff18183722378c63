"""Telegram in: group and private commands, inline buttons and replies become neutral commands.

A python-telegram-bot Application runs inside OneVoice's own loop: updates come from long polling
(bot/telegram_poller.py), or from `POST /telegram/webhook` when a webhook secret is set (bot/telegram_webhook.py).
Either way an update is decided and committed (`decide_update`) before Telegram is told it arrived.
"""

import asyncio
import contextvars
import logging
import re

from telegram import BotCommand, ForceReply, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot.app import OneVoice, learn_alias
from bot.telegram_edits import EditedCommands
from bot.telegram_render import PROMPT_MARK, keyboard, split, to_html
from handlers.i18n import _, speaking
from handlers.markup import Message
from handlers.ports import Command, Reply, RoomRef, UserRef
from handlers.router import UNREACHABLE
from handlers.verbs import VERBS

log = logging.getLogger(__name__)

PLATFORM = "telegram"
_PROMPTED = re.compile(rf"^{PROMPT_MARK} .*?(/crisis (#\d+ \S+(?: v\d+)?))\s*$", re.S)
_FAILURES: contextvars.ContextVar[list] = contextvars.ContextVar("telegram_update_failures")


def build_application(token: str, api_url: str) -> Application:
    """PTB wired to the configured Bot API base, within Telegram's limits (30 messages/s overall, 20/min per group)."""
    limiter = AIORateLimiter(overall_max_rate=30, overall_time_period=1, group_max_rate=20, group_time_period=60, max_retries=0)
    builder = Application.builder().token(token).base_url(api_url).rate_limiter(limiter)
    return builder.updater(None).build()  # no PTB Updater: it would confirm an update to Telegram before it is decided


async def decide_update(application: Application, update: Update) -> bool:
    """Run the update's handlers to completion; whether they finished (False: one raised, so Telegram should send it again)."""
    if _record_failure not in application.error_handlers:  # how a handler's failure is known here
        application.add_error_handler(_record_failure)
    failures: list = []
    token = _FAILURES.set(failures)
    try:
        await application.process_update(update)
    finally:
        _FAILURES.reset(token)
    return not failures


async def _record_failure(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """PTB's error handler: log the failure and mark the update undecided for `decide_update`."""
    log.error("Telegram update %s failed", getattr(update, "update_id", "?"), exc_info=context.error)
    failures = _FAILURES.get(None)
    if failures is not None:
        failures.append(context.error)


class TelegramFront:
    """PTB handlers that translate updates into commands and answers; they never decide."""

    def __init__(self, bot: OneVoice, application: Application, on_work=None):
        self.bot, self.application = bot, application
        self.on_work = on_work or (lambda: None)
        self._aliases: set[tuple[int, str]] = set()  # usernames already remembered, to spare the database
        names = ["crisis", *VERBS]  # `/crisis <verb>` and each verb on its own, also as /verb@botname
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
                menu += [BotCommand(name, _(spec.summary)[:256]) for name, spec in VERBS.items()]
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
        """An inline button: its data is the command; `?command` asks for a reason first, as a reply."""
        query = update.callback_query
        data = query.data or ""
        if data.startswith("?"):
            with speaking(self.bot.config.language):
                ask = _("Reply to this message with the reason for:")
            await query.answer()
            await self._ask(query, f"{PROMPT_MARK} {ask}\n/crisis {data[1:]}")
            return
        reply = await self._run(update, data, answer_in_chat=False)
        if reply is not None and reply.data.get("duplicate"):
            return  # the same press delivered again: it was answered the first time
        shown = (reply.data.get("refused") or reply.message.plain()) if reply else ""
        await query.answer(text=shown[:190] or None)

    async def _ask(self, query, question: str) -> None:
        """Ask under the pressed message; when it is gone (deleted meanwhile), ask in its chat instead."""
        message = query.message
        try:
            await message.reply_text(question, reply_markup=ForceReply(selective=True))
            return
        except TelegramError as error:
            log.info("could not ask under message %s: %s", message.message_id, error)
        try:
            thread = message.message_thread_id if getattr(message, "is_topic_message", False) else None
            await self.application.bot.send_message(
                message.chat.id, question, message_thread_id=thread, reply_markup=ForceReply(selective=True)
            )
        except TelegramError as error:
            log.info("could not ask in chat %s: %s", message.chat.id, error)

    async def on_reply(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """A reply to the bot's question completes the command it asked about."""
        message = update.effective_message
        asked = message.reply_to_message
        if asked is None or asked.from_user is None or asked.from_user.id != self.application.bot.id:
            return
        match = _PROMPTED.match(asked.text or "")
        if match:
            await self._run(update, f"{match.group(2)} {message.text.strip()}")

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
            return Reply(Message(), ok=False, data={"refused": refusal})
        thread = message.message_thread_id if message is not None and message.is_topic_message else None
        room = RoomRef(PLATFORM, str(chat.id), None if thread is None else str(thread), direct=chat.type == "private")
        if user.username and (user.id, user.username) not in self._aliases:
            try:
                await asyncio.to_thread(learn_alias, self.bot.engine, PLATFORM, str(user.id), user.username)
                self._aliases.add((user.id, user.username))
            except UNREACHABLE:
                pass  # learned on a later update; the command itself answers that the database is unreachable
        command = Command(UserRef(PLATFORM, str(user.id), user.username or ""), text, room, f"telegram:{update.update_id}")
        reply = await asyncio.to_thread(self.bot.handle, command)
        if answer_in_chat and not reply.echoed and not reply.data.get("duplicate"):
            await self._answer(reply, user.id, chat.id, thread, message.message_id if message else None)
        self.on_work()
        return reply

    def _serves(self, chat_id: int, chat_type: str) -> bool:
        """Private chats, the crisis group, and the triage and stakeholder rooms named in the config."""
        if chat_type == "private":
            return True
        config = self.bot.config
        rooms = [config.telegram.crisis_group, *(r.telegram for r in [config.triage_room, *config.stakeholder_rooms] if r is not None)]
        return str(chat_id) in {str(room) for room in rooms if room is not None}

    async def _answer(self, reply: Reply, user_id: int, chat_id: int, thread: int | None, reply_to: int | None) -> None:
        """Private answers by DM (Telegram has no ephemeral messages); in the group when the DM is not possible."""
        targets = [(user_id, None, None)] if reply.private and chat_id != user_id else []
        targets.append((chat_id, thread, reply_to))
        for target, target_thread, replying in targets:
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
