"""Reminders survive a killed process: after a restart each overdue nudge fires exactly once."""

import re
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from tests.e2e.conftest import Onevoice

DECLARED = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
SNOOZE_BUTTON = re.compile(r"→ /crisis #1 snooze (\d+) 15m")


def pending_due_by(onevoice: Onevoice, moment: datetime) -> list[int]:
    """Nudges waiting in the database and due by a moment (stored as ISO UTC text by SQLite)."""
    with sqlite3.connect(onevoice.folder / "onevoice.db") as db:
        rows = db.execute("select id, due_at from nudge where state in ('pending', 'snoozed')").fetchall()
    return sorted(i for i, due in rows if datetime.fromisoformat(due).replace(tzinfo=UTC) <= moment)


def wait_for_nudges(onevoice: Onevoice, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if (onevoice.folder / "onevoice.db").exists() and pending_due_by(onevoice, DECLARED + timedelta(days=30)):
                return
        except sqlite3.OperationalError:
            pass  # the database exists but its tables are still being created
        time.sleep(0.1)
    raise AssertionError("the declare never reached the database")


def test_overdue_nudges_fire_exactly_once_after_sigkill_and_restart(onevoice):
    env = {**onevoice.env, "ONEVOICE_CLOCK_START": DECLARED.isoformat()}
    first = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "console", "--as", "alice"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=onevoice.folder,
        env=env,
        text=True,
    )
    first.stdin.write("/crisis declare product-quality sev1 Chargers catching fire\n")
    first.stdin.flush()
    wait_for_nudges(onevoice)
    first.send_signal(signal.SIGKILL)  # no goodbye: whatever the scheduler held in memory is gone
    first.wait(10)

    later = DECLARED + timedelta(minutes=50)  # past the acks, the first update and the golden-hour warning
    overdue = pending_due_by(onevoice, later)
    assert len(overdue) >= 10
    onevoice.env["ONEVOICE_CLOCK_START"] = later.isoformat()
    # The restarts are the console run in this process (Onevoice.type_in): a new bot on the same database, as a new
    # process would be, without the seconds a second Python costs; the killed one above is a real process.
    out = onevoice.type_in("")  # starts, fires what is overdue, reads end of input, stops
    fired = sorted(int(n) for n in SNOOZE_BUTTON.findall(out))
    assert fired == overdue, out  # each overdue nudge exactly once, none lost
    assert "the first approved statement is due at 10:00 Beijing time, 2 Mar, in 15 min" in out
    assert "you were given Legal counsel and have not accepted it yet" in out

    again = onevoice.type_in("")  # a second restart at the same moment fires nothing again
    assert SNOOZE_BUTTON.findall(again) == []
