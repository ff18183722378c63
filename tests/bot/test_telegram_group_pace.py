"""ONEVOICE_TELEGRAM_GROUP_PER_MINUTE: how many messages a minute the bot sends into one Telegram group (Telegram: 20),
and the incident traffic's reserve within them, on the limiter `onevoice run` builds (bot/telegram/front.py)."""

import asyncio

import pytest
from pydantic import ValidationError

from bot.telegram.front import build_application
from bot.telegram.limits import GROUP_RATE, INCIDENT_RESERVE, IncidentFirstLimiter
from config.settings import Settings

GROUP, PERSON = -1001234567890, 100001


class StoppedClock(asyncio.SelectorEventLoop):
    """An event loop whose clock moves only when the test moves it: the budget refills by the test's hand alone."""

    now = 1000.0

    def time(self) -> float:
        return self.now


def limiter_of(*group_rate: int) -> IncidentFirstLimiter:
    limiter = build_application("123456:TEST-token", "http://127.0.0.1:9/bot", *group_rate).bot.rate_limiter
    assert isinstance(limiter, IncidentFirstLimiter)
    return limiter


def send(limiter: IncidentFirstLimiter, loop: StoppedClock, chat: int, times: int = 1) -> None:
    """`times` messages to `chat` through the limiter (each must go at once: the stopped clock would never let one wait)."""

    async def sent(*_args, **_kwargs) -> bool:
        return True

    for _ in range(times):
        loop.run_until_complete(asyncio.wait_for(limiter.process_request(sent, (), {}, "sendMessage", {"chat_id": chat}, None), 5))


def left(limiter: IncidentFirstLimiter, chat: int = GROUP) -> int:
    """How many more messages the group may get now without waiting."""
    bucket = limiter._get_group_limiter(chat)
    return next(n for n in range(2000) if not bucket.has_capacity(n + 1))


@pytest.fixture
def loop():
    loop = StoppedClock()
    yield loop
    loop.close()


def test_the_setting_is_telegrams_20_a_minute_unless_set(monkeypatch):
    monkeypatch.delenv("ONEVOICE_TELEGRAM_GROUP_PER_MINUTE", raising=False)
    assert Settings().telegram_group_per_minute == GROUP_RATE == 20
    monkeypatch.setenv("ONEVOICE_TELEGRAM_GROUP_PER_MINUTE", "1200")
    assert Settings().telegram_group_per_minute == 1200
    with pytest.raises(ValidationError):
        Settings(ONEVOICE_TELEGRAM_GROUP_PER_MINUTE=8)  # the incident reserve alone is 8: no question could ever be asked


def test_by_default_a_group_gets_20_at_once_then_one_every_3_seconds_and_questions_leave_the_reserve(loop):
    limiter = limiter_of()  # as `onevoice run` builds it without the setting
    send(limiter, loop, GROUP, 20 - INCIDENT_RESERVE - 1)
    assert limiter.spare(GROUP)  # a question may still take one: the reserve stays whole
    send(limiter, loop, GROUP)
    assert not limiter.spare(GROUP) and left(limiter) == INCIDENT_RESERVE == 8  # only the declaration's reserve is left
    send(limiter, loop, GROUP, INCIDENT_RESERVE)
    assert left(limiter) == 0  # the 21st message of the minute waits
    loop.now += 2.9
    assert left(limiter) == 0
    loop.now += 0.2  # 3 s after: one more, not two
    assert left(limiter) == 1
    assert limiter.spare(PERSON)  # a private chat never spends a group's budget
    send(limiter, loop, PERSON, 5)
    assert left(limiter) == 1


def test_a_raised_pace_lets_a_group_take_more_at_once_and_refills_it_sooner(loop):
    limiter = limiter_of(1200)
    send(limiter, loop, GROUP, 21)  # past Telegram's 20 (and below PTB's 30 a second over all chats)
    assert limiter.spare(GROUP) and left(limiter) == 1200 - 21
    loop.now += 0.06  # a twentieth of a second refills one message at 1200 a minute
    assert left(limiter) == 1200 - 20
