"""Two replicas sending a publication's last two e-mails at the same instant each settle it before the other has
recorded its own e-mail, so neither sees every e-mail done: `published` kept saying "waiting". The scheduler's settle
sweep settles it."""

import asyncio
import threading

from bot.app import OneVoice
from bot.outbox import mail
from bot.outbox.scheduler import NudgeScheduler
from bot.outbox.worker import Deliverer
from config.model import BroadcastTarget
from config.settings import Settings
from handlers.core.ports import Command, RoomRef, UserRef
from handlers.line import outlets
from tests.bot.test_delivery import FlakyChat
from tests.bot.test_publish import approved_line
from tests.conftest import Chat, seeded

ADDRESSES = ["desk@a.example", "news@b.example"]


class Outside:
    """A mail server that takes every e-mail."""

    platform = "mail"
    sender = "desk@onevoice.example"

    def __init__(self):
        self.sent: list[str] = []

    async def send_mail(self, message, message_id, date) -> dict:
        self.sent.append(message.to)
        return {"message_id": message_id}


def with_press_release(chat: Chat, monkeypatch) -> Chat:
    chat.config.broadcast.append(BroadcastTarget(name="press-release", email=ADDRESSES))
    chat.deps.channels.add("mail")
    monkeypatch.setattr(outlets, "headline_of", lambda statement, config: "PB-20 power banks")
    return chat


async def two_workers_at_once(chat: Chat, monkeypatch) -> Outside:
    """Each of two workers sends one of the two e-mails; both settle before either records its own as sent."""
    real, arrived, decided = outlets.settle, threading.Barrier(2, timeout=20), threading.Barrier(2, timeout=20)

    def at_the_same_instant(session, *args, **kwargs):
        arrived.wait()
        summarised = real(session, *args, **kwargs)
        session.commit()  # SQLite's one writer: the other settles now, before this worker records its e-mail
        decided.wait()
        return summarised

    monkeypatch.setattr(outlets, "settle", at_the_same_instant)
    server = Outside()
    workers = [Deliverer(chat.engine, chat.deps, server, batch=1, worker=f"replica-{n}") for n in (1, 2)]
    await asyncio.gather(*(worker.deliver_pending() for worker in workers))
    monkeypatch.setattr(outlets, "settle", real)
    return server


async def test_the_sweep_settles_a_publication_two_workers_left_waiting(any_engine, config, clock, monkeypatch):
    chat = with_press_release(Chat(any_engine, config, clock), monkeypatch)
    room = await approved_line(chat, FlakyChat(), "We are sorry for the worry.")
    assert chat.say("carol", "publish press-release", room).ok
    server = await two_workers_at_once(chat, monkeypatch)
    assert sorted(server.sent) == ADDRESSES  # each e-mail went once
    assert "press-release: waiting" in chat.say("carol", "published", room).message.plain()  # the gap, reproduced
    assert mail.settle_waiting(chat.engine, clock.now(), "en") == 1
    shown = chat.say("carol", "published", room).message.plain()
    assert "press-release: sent" in shown and "(2 of 2 e-mails delivered)" in shown
    assert mail.settle_waiting(chat.engine, clock.now(), "en") == 0  # settled once


async def test_the_sweep_leaves_a_publication_whose_mails_are_still_on_their_way(chat, clock, monkeypatch):
    room = await approved_line(with_press_release(chat, monkeypatch), FlakyChat(), "We are sorry for the worry.")
    assert chat.say("carol", "publish press-release", room).ok
    assert mail.settle_waiting(chat.engine, clock.now(), "en") == 0
    assert "press-release: waiting" in chat.say("carol", "published", room).message.plain()


async def test_the_scheduler_runs_the_sweep(tmp_path, config, clock, monkeypatch):
    bot = OneVoice(Settings(ONEVOICE_DATABASE_URL=seeded(f"sqlite:///{tmp_path / 'sweep.db'}")), config=config, clock=clock)
    room_chat = FlakyChat()
    bot.attach(room_chat)
    chat = with_press_release(Chat(bot.engine, config, clock), monkeypatch)
    room = await approved_line(chat, room_chat, "We are sorry for the worry.")
    assert chat.say("carol", "publish press-release", room).ok
    await two_workers_at_once(chat, monkeypatch)
    assert await NudgeScheduler(bot).settle() == 1
    ask = Command(UserRef("console", "carol"), "published", RoomRef("console", room))
    assert "press-release: sent" in bot.handle(ask).message.plain()
    bot.engine.dispose()
