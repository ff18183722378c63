"""Telegram's reason prompts: a `?command` button asks the presser, and only them, for the reason, under the pressed
message; every refusal is the callback's private answer (PRODUCT.md §9, issue 15)."""

import asyncio
import logging

from telegram import Bot, ForceReply, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.telegram.prompts import PLATFORM, PromptDesk
from bot.telegram.render import question_html
from handlers.core.ports import RoomRef, UserRef
from handlers.router import UNREACHABLE
from handlers.text.i18n import _, speaking

log = logging.getLogger(__name__)


async def ask(update: Update, text: str, prompts: PromptDesk, api: Bot, language: str, serves: bool) -> None:
    """Vet the pressed command as the presser's own; then ask them, and only them, for the reason under the pressed
    message (in its chat when it is gone). Every refusal is the callback's private answer: the group sees nothing."""
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    message = query.message
    if chat is None or message is None or not serves:
        with speaking(language):
            await answer_query(query, _("This group is not set up for OneVoice: use the crisis group, or message me privately."))
        return
    thread = message.message_thread_id if getattr(message, "is_topic_message", False) else None
    room = RoomRef(PLATFORM, str(chat.id), None if thread is None else str(thread), direct=chat.type == "private")
    verdict = await asyncio.to_thread(prompts.vet, UserRef(PLATFORM, str(user.id), user.username or ""), text, room)
    with speaking(language):
        if verdict.refusal:
            await answer_query(query, short(verdict.refusal))
            return
        if verdict.already_asked:
            await answer_query(query, _("I have asked you already: reply to my question with the reason."))
            return
        if not prompts.may_post(user.id, chat.id):
            busy = _("Too many questions right now. Type the command with your reason instead: {command}")
            where = f"#{verdict.incident_id} " if verdict.incident_id else ""
            await answer_query(query, short(busy.format(command=f"/crisis {where}{verdict.verb} …")))
            return
        template = (
            _("{name}, reply to this message with your reason for {verb} in {id}.")
            if verdict.incident_id
            else _("{name}, reply to this message with your reason for {verb}.")
        )
    question = question_html(template, verdict.name, user.id, verdict.verb, verdict.incident_id)
    sent = await post_question(api, message, chat.id, thread, question)
    if sent is None:
        await answer_query(query)
        return
    try:
        await asyncio.to_thread(prompts.record, user.id, verdict, text, sent.chat_id, thread, sent.message_id)
    except UNREACHABLE:  # asked but not kept: a reply to it changes nothing, and the button can be pressed again
        log.warning("could not keep the question %s: the database is unreachable", sent.message_id)
    await answer_query(query)


async def post_question(api: Bot, message, chat_id: int, thread: int | None, question: str):
    """Post under the pressed message; when it is gone (deleted meanwhile), in its chat instead. The message, or None."""
    options = {"parse_mode": ParseMode.HTML, "reply_markup": ForceReply(selective=True)}
    try:
        return await api.send_message(chat_id, question, message_thread_id=thread, reply_to_message_id=message.message_id, **options)
    except TelegramError as error:
        log.info("could not ask under message %s: %s", message.message_id, error)
    try:
        return await api.send_message(chat_id, question, message_thread_id=thread, **options)
    except TelegramError as error:
        log.info("could not ask in chat %s: %s", chat_id, error)
    return None


async def answer_query(query, text: str | None = None) -> None:
    """The callback's private answer (it stops the button's spinner); one already answered (a redelivery) is let be."""
    try:
        await query.answer(text=text or None)
    except TelegramError as error:
        log.info("could not answer button press %s: %s", query.id, error)


def short(text: str, limit: int = 190) -> str:
    """A callback answer fits Telegram's 200 characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
