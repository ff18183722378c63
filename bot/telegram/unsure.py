"""Telegram's unsure commands: the platform-neutral bot/outbox/unsure.py, under the name Telegram's callers know."""

from bot.outbox.unsure import KEPT, UNSURE_FOR, UnsureCommits

__all__ = ["KEPT", "UNSURE_FOR", "UnsureCommits"]
