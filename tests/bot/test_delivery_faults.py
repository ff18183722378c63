"""Delivery to a fake Slack that loses messages and refuses calls: a deleted card comes back, a refused effect is given up
after its cap and the room is told, and nothing else of the incident waits for it."""

from datetime import timedelta

import pytest

from bot.app import OneVoice
from bot.slack import delivery as slack_delivery
from bot.slack.delivery import SlackAdapter, web_client
from config.settings import Settings
from handlers.core.ports import Command, FakeClock, RoomRef, UserRef
from tests.conftest import seeded
from tests.fakes.slack_api import FakeSlack
from tests.templates import copy_of_starter

CONFIG = copy_of_starter()
LATER = timedelta(hours=2)  # past any backoff


class Workspace:
    """OneVoice on SQLite with Slack attached, speaking to a fake Slack on loopback, on a fake clock."""

    def __init__(self, fake: FakeSlack, folder, attempts: int = 3, config=CONFIG):
        self.fake, self.clock = fake, FakeClock()
        settings = Settings(ONEVOICE_DATABASE_URL=seeded(f"sqlite:///{folder / 'faults.db'}"), ONEVOICE_DELIVERY_ATTEMPTS=attempts)
        self.bot = OneVoice(settings, config=config, clock=self.clock)
        self.bot.attach(SlackAdapter(web_client(fake.token, fake.api_url)))
        self.room = ""

    def say(self, user: str, line: str, channel: str = "C0GENERAL"):
        reply = self.bot.handle(Command(UserRef("slack", user), line, RoomRef("slack", channel)))
        assert reply.ok, reply.message.plain()
        return reply

    async def declare(self) -> str:
        self.say("U0ALICE", "declare product-quality sev2 Battery overheating")
        await self.bot.deliver()
        self.room = next(c["id"] for c in self.fake.channels.values() if c["name"].startswith("crisis-"))
        return self.room

    def texts(self) -> list[str]:
        return [m["text"] or "" for m in self.fake.messages_in(self.room) if not m["ephemeral"]]

    def pinned(self) -> list[str]:
        return [self.fake.current(self.room, ts)["text"] or "" for ts in self.fake.channels[self.room]["pins"]]


@pytest.fixture
async def workspace(tmp_path, monkeypatch):
    monkeypatch.setattr(slack_delivery, "PACE", 0)  # one message a second per channel has its own tests
    fake = FakeSlack()
    await fake.start()
    fake.add_channel("general", channel_id="C0GENERAL")
    fake.add_channel("newsroom", channel_id="C0NEWS", members=[fake.bot_user_id])
    space = Workspace(fake, tmp_path)
    yield space
    await fake.stop()
    space.bot.engine.dispose()


async def test_a_deleted_pinned_card_is_posted_and_pinned_again(workspace):
    room = await workspace.declare()
    [card_ts] = workspace.fake.channels[room]["pins"]
    workspace.fake.messages.remove(workspace.fake.find_message(room, card_ts))  # someone deletes the pinned card
    workspace.fake.channels[room]["pins"].remove(card_ts)
    workspace.say("U0BOB", "ack", room)  # the card changes
    await workspace.bot.deliver()
    [fresh] = workspace.fake.channels[room]["pins"]
    assert fresh != card_ts
    assert "Battery overheating" in workspace.fake.current(room, fresh)["text"]
    workspace.say("U0CAROL", "ack", room)  # and the next change edits the fresh card in place
    await workspace.bot.deliver()
    assert workspace.fake.channels[room]["pins"] == [fresh]
    assert workspace.fake.updates[-1]["ts"] == fresh
    assert not [t for t in workspace.texts() if "Could not deliver" in t]


async def test_a_card_refresh_refused_again_and_again_is_given_up_and_the_room_told_while_posts_go_on(workspace):
    room = await workspace.declare()
    workspace.fake.fail_next("chat.update", 500, times=1000)  # the card cannot be edited, however often it is tried
    workspace.say("U0BOB", "ack", room)  # a card refresh
    workspace.say("U0ALICE", "update Stores are pulling the batch", room)  # then a post to the room
    await workspace.bot.deliver()
    assert any("Stores are pulling the batch" in t for t in workspace.texts())  # in the same pass the card failed in
    assert not [t for t in workspace.texts() if "Could not deliver" in t]  # the card is still being retried
    for _pass in range(3):
        workspace.clock.advance(LATER)
        await workspace.bot.deliver()
    [notice] = [t for t in workspace.texts() if "Could not deliver" in t]
    assert "the card update" in notice and "attempts: 3" in notice and "/crisis #1 status" in notice
    workspace.clock.advance(LATER)
    assert await workspace.bot.deliver() == 0  # given up: not tried again


async def test_an_unknown_refusal_is_given_up_at_once_and_the_room_told(workspace):
    room = await workspace.declare()
    workspace.fake.fail_next("chat.postMessage", 400)  # an error Slack has never been known to give
    workspace.say("U0ALICE", "update Stores are pulling the batch", room)
    workspace.say("U0ALICE", "update Refunds start tomorrow", room)
    await workspace.bot.deliver()
    [notice] = [t for t in workspace.texts() if "Could not deliver" in t]
    assert "Stores are pulling the batch" in notice and "attempts: 1" in notice
    posts = [t for t in workspace.texts() if t != notice]
    assert not any("Stores are pulling the batch" in t for t in posts)
    assert any("Refunds start tomorrow" in t for t in posts)  # the next post did not wait for it


async def test_the_notice_is_in_chinese_for_a_chinese_team(tmp_path, monkeypatch):
    monkeypatch.setattr(slack_delivery, "PACE", 0)
    async with FakeSlack() as fake:
        fake.add_channel("general", channel_id="C0GENERAL")
        space = Workspace(fake, tmp_path, config=CONFIG.model_copy(update={"language": "zh"}))
        room = await space.declare()
        fake.fail_next("chat.postMessage", 400)
        space.say("U0ALICE", "update Stores are pulling the batch", room)
        await space.bot.deliver()
        [notice] = [t for t in space.texts() if "Stores are pulling the batch" in t]
        assert "未能" in notice
        space.bot.engine.dispose()


async def test_a_deleted_pinned_card_on_telegram_is_posted_and_pinned_again(tmp_path):
    from telegram import Bot

    from bot.telegram.delivery import TelegramAdapter
    from tests.fakes.telegram_api import FakeTelegram

    group = -1001234567890
    config = CONFIG.model_copy(update={"telegram": CONFIG.telegram.model_copy(update={"crisis_group": group})})
    async with FakeTelegram(crisis_group=group) as fake:
        bot = OneVoice(Settings(ONEVOICE_DATABASE_URL=seeded(f"sqlite:///{tmp_path / 'tg.db'}")), config=config)
        telegram = Bot(fake.token, base_url=fake.api_base)
        await telegram.initialize()
        bot.attach(TelegramAdapter(telegram, config))
        alice = str(config.team.people["alice"].telegram)
        reply = bot.handle(
            Command(UserRef("telegram", alice), "declare product-quality sev2 Battery overheating", RoomRef("telegram", str(group)))
        )
        assert reply.ok
        await bot.deliver()
        [(chat, card)] = fake.pins
        del fake._store[(chat, card)]  # someone deletes the pinned card
        bob = str(config.team.people["bob"].telegram)
        assert bot.handle(Command(UserRef("telegram", bob), "#1 ack", RoomRef("telegram", str(group)))).ok
        await bot.deliver()
        assert len(fake.pins) == 2 and fake.pins[1][1] != card  # a fresh card, pinned
        fresh = next(m for m in fake.messages if m["message_id"] == fake.pins[1][1])
        assert "Battery overheating" in fresh["plain"] and fresh["message_thread_id"] is not None  # in the incident's topic
        await telegram.shutdown()
        bot.engine.dispose()
