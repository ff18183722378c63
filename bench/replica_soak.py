"""Soak: three replicas, 200 commands (30 retried to another replica) and 2,000 overdue reminders for 250 people.

The load tests/e2e/test_replicas.py carried before the suite was made fast (it now runs 200 reminders): every declare
makes exactly one incident and room, every update reaches its room once, every reminder reaches Slack exactly once.
Real `onevoice run` processes on a fresh PostgreSQL schema behind the fake Slack on loopback (tests/e2e/replica_run.py).
Prints the figures and exits 1 when a property fails.
At Slack's real pace of one message a second per channel unless --pace says (the test runs at 0.05 s).
Run: python bench/replica_soak.py [--reminders 2000] [--replicas 3] [--pace SECONDS]
"""

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import private_schema  # noqa: E402
from tests.e2e.replica_run import exactly_once_run  # noqa: E402

DECLARES, UPDATES, PEOPLE = 40, 160, 250


async def main(args) -> int:
    started = time.monotonic()
    due = datetime(2026, 3, 2, 1, 0, tzinfo=UTC) - timedelta(minutes=5)
    with private_schema() as (engine, url), tempfile.TemporaryDirectory(prefix="onevoice-soak-") as folder:
        env = {"ONEVOICE_SLACK_PACE_SECONDS": str(args.pace)} if args.pace is not None else None
        found = await exactly_once_run(Path(folder), engine, url, due, args.replicas, DECLARES, UPDATES, args.reminders, PEOPLE, env)
    failures = {
        "one incident per declare": sorted(found.declared) == found.titles,
        "one room per declare": len(found.rooms) == DECLARES == len(set(found.rooms)),
        "every effect sent": set(found.states) == {"sent"} and found.states["sent"] > args.reminders,
        "each update once in its room": sorted(found.updates_in_rooms) == sorted(f"U{n:03d}" for n in range(UPDATES)),
        "every reminder delivered": sorted(int(n) for n in found.reminders) == list(range(1, args.reminders + 1)),
        "no reminder twice": set(found.reminders.values()) == {1},
        "clean exits": found.exit_codes == [0] * args.replicas,
    }
    print(
        f"{args.replicas} replicas, {DECLARES + UPDATES} commands, {args.reminders} reminders: "
        f"{sum(found.reminders.values())} reminders posted, {len(found.reminders)} distinct, {time.monotonic() - started:.0f} s"
    )
    for name, held in failures.items():
        print(f"  {'ok  ' if held else 'FAIL'} {name}")
    return 0 if all(failures.values()) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=2000)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--pace", type=float, default=None, help="seconds between two posts to one channel (default: Slack's 1)")
    sys.exit(asyncio.run(main(parser.parse_args())))
