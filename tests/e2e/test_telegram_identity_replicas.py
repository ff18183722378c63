"""Learned Telegram user names across real processes (issue 14): two `onevoice run` replicas (webhook) on one database
and one fake Telegram. A name one replica learned is known to a replica started afterwards, and again right after that
replica restarts; a changed name replaces the old one on every replica."""

from __future__ import annotations

from pathlib import Path

from tests.e2e import telegram_process
from tests.e2e.telegram_process import ALICE, DAVE, TelegramBot

start_telegram_bot = telegram_process.start_telegram_bot


class SecondReplica(TelegramBot):
    """Another `onevoice run` on the first replica's database, config and fake Telegram (which it neither starts nor stops)."""

    def __init__(self, folder: Path, first: TelegramBot):
        super().__init__(folder, "webhook")
        self.fake, self.database, self.config = first.fake, first.database, first.config

    async def start(self, timeout: float = 30) -> SecondReplica:
        self.fake.start = _nothing  # already serving the first replica
        try:
            return await super().start(timeout)
        finally:
            del self.fake.start

    async def stop(self) -> int | None:
        self.fake.stop = _nothing  # the first replica's fixture stops it
        try:
            return await super().stop()
        finally:
            del self.fake.stop


async def _nothing() -> None:
    return None


async def on(replica: TelegramBot, user: int, text: str, username: str | None = None) -> dict:
    """`user` types `text` to the bot privately, and Telegram delivers it to this replica's webhook."""
    replica.fake.webhook["url"] = f"{replica.url}/telegram/webhook"
    return await replica.command(user, text, chat=user, username=username)


async def assigned(replica: TelegramBot, role: str, mention: str) -> str:
    """Alice assigns a role by mention on this replica; what she is told."""
    shown = len(replica.fake.messages_in(ALICE))
    await on(replica, ALICE, f"/crisis #1 assign {role} {mention}")
    return await replica.wait_for(lambda: (m := replica.fake.messages_in(ALICE)[shown:]) and m[-1]["plain"], 10, "Alice's answer")


async def test_a_learned_username_works_on_a_second_replica_and_right_after_its_restart(start_telegram_bot, tmp_path):
    first = await start_telegram_bot("webhook")
    await on(first, ALICE, "/crisis declare product-quality sev2 Battery overheating")
    await on(first, DAVE, "/crisis list", username="dz_on_tg")  # the first replica learns Dave's user name
    (tmp_path / "second").mkdir()
    second = SecondReplica(tmp_path / "second", first)
    try:
        await second.start()  # it syncs the handles from the config at start: the learned name stays
        assert "Dave Zhang is now Spokesperson in #1." in await assigned(second, "spokesperson", "@dz_on_tg")
        await second.stop()
        await second.start()  # right after a restart, before Dave writes again
        assert "Dave Zhang is now External liaison in #1." in await assigned(second, "liaison", "@dz_on_tg")
        await on(second, DAVE, "/crisis list", username="dave_renamed")  # Dave changes his user name
        assert "@dz_on_tg is not a member of the team" in await assigned(first, "spokesperson", "@dz_on_tg")
        assert "Dave Zhang already holds Spokesperson." in await assigned(first, "spokesperson", "@dave_renamed")
    finally:
        await second.stop()
