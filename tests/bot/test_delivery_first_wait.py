"""ONEVOICE_DELIVERY_FIRST_WAIT_SECONDS: the wait before an effect's first retry, when the platform did not say when."""

from sqlmodel import select

from bot.app import OneVoice
from bot.outbox.backoff import FIRST_WAIT, GIVE_UP_AFTER, growth
from bot.outbox.worker import Deliverer
from config.settings import Settings
from handlers.core.effects import OpenRoom
from storage.db import session
from storage.models import Outbox
from tests.bot.test_delivery import Down


def test_the_first_wait_is_2_seconds_unless_set(monkeypatch):
    monkeypatch.delenv("ONEVOICE_DELIVERY_FIRST_WAIT_SECONDS", raising=False)
    assert Settings().delivery_first_wait_seconds == FIRST_WAIT == 2.0
    monkeypatch.setenv("ONEVOICE_DELIVERY_FIRST_WAIT_SECONDS", "0.5")
    assert Settings().delivery_first_wait_seconds == 0.5


async def test_a_shorter_first_wait_retries_sooner_and_the_tries_still_span_the_give_up_time(chat, clock):
    chat.declare()
    await Deliverer(chat.engine, chat.deps, Down(clock), first_wait=0.5).deliver_pending()
    with session(chat.engine) as db:
        opening = db.exec(select(Outbox).where(Outbox.kind == OpenRoom.kind)).one()
    assert 0.25 <= (opening.next_attempt_at - clock.now()).total_seconds() <= 0.75  # 0.5 s, with jitter of half of it
    factor = growth(7, GIVE_UP_AFTER, 0.5)
    assert round(sum(0.5 * factor**i for i in range(7))) == GIVE_UP_AFTER  # 7 waits from 0.5 s still add up to 30 min
    assert factor > growth(7, GIVE_UP_AFTER)  # so each grows faster than from the default 2 s


def test_onevoice_hands_the_setting_to_every_platforms_deliverer(tmp_path, clock):
    bot = OneVoice(Settings(ONEVOICE_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", ONEVOICE_DELIVERY_FIRST_WAIT_SECONDS=0.5))
    down = Down(clock)
    bot.attach(down)
    try:
        assert bot.deliverers[down.platform].first_wait == 0.5  # the setting reaches delivery, not only its own test
    finally:
        bot.engine.dispose()
