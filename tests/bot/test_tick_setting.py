"""ONEVOICE_TICK_SECONDS: how often a replica's scheduler looks for reminders and deliveries it was not told about."""

from bot.app import OneVoice
from bot.outbox.scheduler import SAFETY_TICK, NudgeScheduler
from config.settings import Settings


def test_the_safety_tick_is_15_seconds_unless_set(tmp_path, monkeypatch):
    monkeypatch.delenv("ONEVOICE_TICK_SECONDS", raising=False)
    database = f"sqlite:///{tmp_path / 'tick.db'}"
    assert NudgeScheduler(OneVoice(Settings(ONEVOICE_DATABASE_URL=database))).tick_seconds == SAFETY_TICK == 15
    assert NudgeScheduler(OneVoice(Settings(ONEVOICE_DATABASE_URL=database, ONEVOICE_TICK_SECONDS=2))).tick_seconds == 2
    monkeypatch.setenv("ONEVOICE_TICK_SECONDS", "0.5")
    assert NudgeScheduler(OneVoice(Settings(ONEVOICE_DATABASE_URL=database))).tick_seconds == 0.5
