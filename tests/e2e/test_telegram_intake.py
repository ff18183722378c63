"""Crash at intake on Telegram (issue 14): an update Telegram was told arrived is never lost, and never done twice.

`onevoice run` on PostgreSQL behind the fake Telegram, SIGKILLed at a random moment between an update's receipt and a few
milliseconds after its acknowledgement, ten rounds per path in two tests of five, each under a minute
(tests/e2e/telegram_intake.py): by webhook (two replicas; a
200 is the acknowledgement, an update without one is delivered again) and by long polling (the offset passed to
getUpdates is the acknowledgement; the restarted poller gets the unconfirmed updates again). In the end every
acknowledged `/task` is listed exactly once by `/tasks`. bench/intake_telegram.py runs 200 rounds per path.
"""

import pytest

from tests.conftest import private_schema
from tests.e2e.telegram_intake import crash_rounds

ROUNDS = 5  # per test; each path runs twice (a restart of `onevoice run` costs seconds on a busy machine)


@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("mode", ["webhook", "polling"])
async def test_sigkills_at_intake_lose_no_acknowledged_update_and_double_none(tmp_path, mode, batch):
    with private_schema() as (_engine, url):
        tally = await crash_rounds(tmp_path, url, mode, ROUNDS)
    print(tally.line(f"{mode} batch {batch}"))
    assert tally.lost == []  # acknowledged means done
    assert tally.doubled == []  # a redelivered update finds its dedup key
    assert tally.acknowledged >= 1  # the last round is killed just after its acknowledgement
