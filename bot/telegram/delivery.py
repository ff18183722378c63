"""Telegram as a delivery target: incident rooms are forum topics; effects become Bot API calls, rate-limited and retried."""

import hashlib
import html
import json
import logging

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.outbox.adapter import RetryLater, Undeliverable, pin_soon, resumed
from bot.telegram.render import keyboard, split, to_html
from config.model import Config
from handlers.core.effects import Answer, OpenRoom
from handlers.text.markup import Message
from storage.models import Room

log = logging.getLogger(__name__)

NOT_A_FORUM = (
    "I could not open a topic for incident {topic}: {reason}. In the group settings turn on Topics, "
    "and make me an administrator with the right to manage topics; the incident is open meanwhile (see /crisis list)."
)


class TelegramAdapter:
    """Delivers effects to the crisis supergroup's topics, to people, and to broadcast channels."""

    platform = "telegram"

    def __init__(self, bot: Bot, config: Config):
        self.bot, self.config = bot, config

    async def _call(self, method: str, **params):
        """One Bot API call; flood control and outages are for later, refusals are for good."""
        try:
            return await getattr(self.bot, method)(**params)
        except RetryAfter as wait:
            seconds = wait.retry_after.total_seconds() if hasattr(wait.retry_after, "total_seconds") else float(wait.retry_after)
            raise RetryLater(f"{method}: flood control", after=seconds) from None
        except (Forbidden, BadRequest) as refusal:
            raise Undeliverable(f"{method}: {refusal.message}") from None
        except (NetworkError, TelegramError) as error:  # timeouts and 5xx
            raise RetryLater(f"{method}: {type(error).__name__}") from None

    async def _send(self, chat_id, message: Message, thread_id=None, reply_to: int | None = None) -> str:
        """Post a message, split at 4,096 characters; the buttons go under the last piece. Return its id.

        A retry resumes from the first piece not yet sent (the pieces sent are kept as progress), so none arrives twice."""
        pieces = split(to_html(message)) or [" "]
        fingerprint = hashlib.sha256(json.dumps([str(chat_id), thread_id, pieces]).encode()).hexdigest()[:24]
        earlier = resumed().get("pieces") or {}
        sent = list(earlier.get("sent", [])) if earlier.get("of") == fingerprint else []
        for i, piece in enumerate(pieces[len(sent) :], start=len(sent)):
            markup = keyboard(message) if i == len(pieces) - 1 else None
            try:
                posted = await self._call(
                    "send_message",
                    chat_id=chat_id,
                    text=piece,
                    parse_mode=ParseMode.HTML,
                    message_thread_id=thread_id,
                    reply_markup=markup,
                    disable_web_page_preview=True,
                    **({"reply_to_message_id": reply_to, "allow_sending_without_reply": True} if reply_to else {}),
                )
            except RetryLater as wait:
                if sent:
                    wait.progress = {**wait.progress, "pieces": {"of": fingerprint, "sent": sent}}
                raise
            sent.append(str(posted.message_id))
        return sent[-1]

    def _group(self) -> int:
        if self.config.telegram.crisis_group is None:
            raise Undeliverable("telegram.crisis_group is not set in onevoice.yaml")
        return self.config.telegram.crisis_group

    async def open_room(self, room: Room, effect: OpenRoom, card: Message) -> dict:
        """A forum topic named like Slack's channel, with the card posted and pinned in it; a retry resumes, never repeats."""
        group = self._group()
        progress = {"external_id": str(group)}
        try:
            thread = int(room.thread_id) if room.thread_id else await self._create_topic(group, room, effect)
            progress["thread_id"] = str(thread)
            card_id = room.card_message_id or await self._send(group, card, thread)
            progress["card_message_id"] = card_id
            await self._pin(group, card_id)
        except RetryLater as wait:
            wait.progress = {**wait.progress, **progress}  # with the pieces of a split card already sent
            raise
        return {"external_id": str(group), "thread_id": str(thread), "card_message_id": card_id}

    async def _create_topic(self, group: int, room: Room, effect: OpenRoom) -> int:
        name = ("🧪 " if effect.drill else "") + room.name
        try:
            topic = await self._call("create_forum_topic", chat_id=group, name=name[:128])
        except Undeliverable as refusal:
            reason = "the group is not a forum" if "not a forum" in str(refusal).lower() else f"Telegram said “{refusal}”"
            await self._call("send_message", chat_id=group, text=NOT_A_FORUM.format(topic=effect.topic, reason=reason))
            raise
        return topic.message_thread_id

    async def _pin(self, chat_id, message_id: str) -> None:
        await self._call("pin_chat_message", chat_id=chat_id, message_id=int(message_id), disable_notification=True)

    async def post(self, room: Room | None, to: str | None, message: Message) -> dict:
        if room is not None:
            return {"message_id": await self._send(int(room.external_id), message, _thread(room))}
        return {"message_id": await self._send(to, message)}

    async def edit_card(self, room: Room, card: Message) -> dict:
        return await self._edit_pinned(room, room.card_message_id, card)

    async def _edit_pinned(self, room: Room, message_id: str, message: Message) -> dict:
        """Edit a pinned message in its topic; when it was deleted, post and pin a fresh one (its id is returned)."""
        try:
            await self._edit(int(room.external_id), message_id, message)
        except Undeliverable as refusal:
            if "message to edit not found" not in str(refusal).lower():
                raise
            log.warning("pinned message %s is gone: posting a fresh one", message_id)
            posted = await self._send(int(room.external_id), message, _thread(room))
            await pin_soon(self._pin, int(room.external_id), posted)
            return {"message_id": posted}
        return {"message_id": message_id}

    async def _edit(self, chat, message_id: str, message: Message) -> None:
        """Edit a message in place; an edit that changes nothing is fine."""
        try:
            await self._call(
                "edit_message_text",
                chat_id=chat,
                message_id=int(message_id),
                text=split(to_html(message))[0],
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(message),
                disable_web_page_preview=True,
            )
        except Undeliverable as refusal:
            if "not modified" not in str(refusal):
                raise

    async def invite(self, room: Room, users: list[str]) -> dict:
        """A bot cannot add members: the responders are mentioned in the topic instead."""
        names = {str(p.telegram): p.name for p in self.config.team.people.values() if p.telegram is not None}
        mentions = ", ".join(
            f'<a href="tg://user?id={int(u)}">{html.escape(names.get(u, u))}</a>' for u in users if u.lstrip("-").isdigit()
        )
        if mentions:
            await self._call(
                "send_message",
                chat_id=int(room.external_id),
                message_thread_id=_thread(room),
                text=f"👋 {mentions}",
                parse_mode=ParseMode.HTML,
            )
        return {"mentioned": users}

    async def dm(self, to: str, message: Message) -> dict:
        return {"message_id": await self._send(int(to), message)}

    async def answer(self, effect: Answer) -> dict:
        """The answer to a typed command. A private one goes by DM (Telegram has no ephemeral messages), else where it was
        asked, under the command; a refusal (not on the team, not permitted) goes by DM only, never into a group."""
        user, chat = effect.to, effect.channel or effect.to
        targets = [(user, None, None)] if effect.private and chat != user else []
        targets.append((chat, effect.thread, effect.reply_to))
        for target, thread, replying in targets:
            if effect.refused and target != user:
                log.info("a refusal to %s stays out of chat %s (no DM possible)", user, chat)
                return {"skipped": "a refusal is never said in a group"}
            try:
                return {"chat_id": target, "message_id": await self._send(_chat(target), effect.message, thread, replying)}
            except Undeliverable as error:  # the person never started the bot: answer where they asked
                log.info("could not answer on %s: %s", target, error)
        raise Undeliverable(f"the answer to {user} could not be sent in chat {chat}")

    async def pin(self, room: Room, message_id: str | None, message: Message) -> dict:
        if message_id:
            return await self._edit_pinned(room, message_id, message)
        posted = await self._send(int(room.external_id), message, _thread(room))
        await pin_soon(self._pin, int(room.external_id), posted)
        return {"message_id": posted}

    async def edit_message(self, to: str, message_id: str, message: Message) -> dict:
        await self._edit(_chat(to), message_id, message)
        return {"message_id": message_id}

    async def publish(self, to: str, text: str) -> dict:
        """The approved text as sent: no parse mode, so every character reads exactly as approved."""
        sent = await self._call("send_message", chat_id=_chat(to), text=text, disable_web_page_preview=True)
        return {"message_id": str(sent.message_id)}


def _chat(to: str) -> int | str:
    """A chat id as configured: numeric ids as numbers, `@channel` names as they are."""
    return int(to) if to.lstrip("-").isdigit() else to


def _thread(room: Room) -> int | None:
    return int(room.thread_id) if room.thread_id else None
