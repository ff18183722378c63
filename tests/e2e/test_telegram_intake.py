"""Crash at intake on Telegram (issue 14): an update Telegram was told arrived is never lost, and never done twice.

`onevoice run` on PostgreSQL behind the fake Telegram, SIGKILLed at a random moment between an update's receipt and a few
milliseconds after its acknowledgement, ten rounds per path: two batches of five side by side, each on its own schema
and fake Telegram (tests/e2e/telegram_intake.py), so that one batch's restarts overlap the other's waits: by webhook
(two replicas; a 200 is the acknowledgement, an update without one is delivered again) and by long polling (the offset
passed to getUpdates is the acknowledgement; the restarted poller gets the unconfirmed updates again; one poller per
database, so one batch restarts its poller only after the last). In the end every acknowledged `/task` is listed
exactly once by `/tasks`. bench/intake_telegram.py runs 200 rounds per path.
"""

import asyncio
from contextlib import ExitStack

import pytest

from tests.conftest import private_schema
from tests.e2e.telegram_intake import crash_rounds

ROUNDS, BATCHES = 5, 2  # per path: ten rounds, in two batches at once (a restart of `onevoice run` costs seconds)


@pytest.mark.parametrize("mode", ["webhook", "polling"])
async def test_sigkills_at_intake_lose_no_acknowledged_update_and_double_none(tmp_path, mode):
    with ExitStack() as schemas:
        urls = [schemas.enter_context(private_schema())[1] for _batch in range(BATCHES)]
        folders = [tmp_path / f"batch{n}" for n in range(1, BATCHES + 1)]
        for folder in folders:
            folder.mkdir()
        async with asyncio.TaskGroup() as group:  # one batch failing stops the other before its schema is dropped
            batches = [group.create_task(crash_rounds(folder, url, mode, ROUNDS)) for folder, url in zip(folders, urls, strict=True)]
        tallies = [batch.result() for batch in batches]
    for batch, tally in enumerate(tallies, 1):
        print(tally.line(f"{mode} batch {batch}"))
    assert sum(tally.sent for tally in tallies) >= 10  # issue 14: ten crash rounds per path
    for tally in tallies:
        assert tally.lost == []  # acknowledged means done
        assert tally.doubled == []  # a redelivered update finds its dedup key
        assert tally.acknowledged >= 1  # the last round is killed just after its acknowledgement
