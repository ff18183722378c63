"""Edited Telegram messages: an edit never runs a command again; its author is told so once, privately."""

import asyncio
import logging

from sqlalchemy.exc import IntegrityError
from telegram import Bot, Message, Update
from telegram.constants import MessageEntityType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.app import OneVoice
from handlers.router import UNREACHABLE
from handlers.text.i18n import _, speaking
from handlers.text.markup import text
from storage.db import session
from storage.models import ProcessedEvent

log = logging.getLogger(__name__)


class EditedCommands:
    """Answers an edited command (or an edited reply to the bot) by DM, once per edit; runs nothing."""

    def __init__(self, bot: OneVoice, telegram: Bot):
        self.bot, self.telegram = bot, telegram

    async def on_edit(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """An edited message or channel post: a command in it is not run; the editor hears why, once."""
        message = update.edited_message or update.edited_channel_post
        if message is None or not self._commands(message):
            return
        user = update.effective_user
        if user is None or message.chat.type == "channel":  # a channel post has no one to answer privately
            log.info("edited channel post %s with a command ignored", update.update_id)
            return
        with speaking(self.bot.config.language):
            answer = _("Editing a message does not run its command again; nothing was changed. Send the command as a new message.")
        try:
            first = await asyncio.to_thread(self._first_delivery, f"telegram:{update.update_id}", answer)
        except UNREACHABLE:
            first = True  # nothing can change anyway; better said twice than not at all
        if not first:
            return  # the same edit delivered again: it was answered the first time
        try:
            await self.telegram.send_message(user.id, answer)
        except TelegramError as error:  # the person never started the bot: nothing is posted in the group instead
            log.info("could not tell %s that an edit runs nothing: %s", user.id, error)

    def _commands(self, message: Message) -> bool:
        """Whether the edited text holds a command, or answers one of the bot's questions."""
        if any(entity.type == MessageEntityType.BOT_COMMAND for entity in message.entities or ()):
            return True
        if (message.text or "").lstrip().startswith("/"):
            return True
        asked = message.reply_to_message
        return asked is not None and asked.from_user is not None and asked.from_user.id == self.telegram.id

    def _first_delivery(self, key: str, answer: str) -> bool:
        """Record the edit's update as handled; False when it already was (a redelivery)."""
        reply = {"message": text(answer).to_json(), "ok": False, "private": True, "incident_id": None}
        with session(self.bot.engine) as db:
            if db.get(ProcessedEvent, key) is not None:
                return False
            db.add(ProcessedEvent(key=key, at=self.bot.deps.clock.now(), reply=reply))
            try:
                db.commit()
            except IntegrityError:
                return False  # another replica took the same delivery at the same moment
        return True
