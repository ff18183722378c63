"""Telegram's unsure commands: the platform-neutral bot/outbox/unsure.py, under the names Telegram's tests know."""

from bot.outbox.unsure import UNSURE_FOR, UnsureCommits

__all__ = ["UNSURE_FOR", "UnsureCommits"]
