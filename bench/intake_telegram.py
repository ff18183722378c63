"""Crash at intake on Telegram, 200 rounds per path: how many updates were acknowledged, lost (must be 0), doubled.

`onevoice run` on PostgreSQL behind the fake Telegram, SIGKILLed at a moment spread between an update's receipt and a few
milliseconds after its acknowledgement (webhook: its 200, with two replicas; polling: the offset passed to getUpdates),
then restarted; in the end `/tasks` shows how many times each acknowledged `/task` exists (tests/e2e/telegram_intake.py).
Each round restarts a process, a few seconds each: 200 rounds take minutes.
Run: python bench/intake_telegram.py [--rounds 200] [--paths webhook,polling] [--database-url URL]
"""

import argparse
import asyncio
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from storage.db import make_engine, upgrade  # noqa: E402
from tests.conftest import POSTGRES_URL  # noqa: E402
from tests.e2e.telegram_intake import crash_rounds  # noqa: E402


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="rounds per path")
    parser.add_argument("--paths", default="webhook,polling")
    parser.add_argument("--database-url", default=POSTGRES_URL, help="a PostgreSQL database; a private schema is made in it")
    args = parser.parse_args()
    lost = 0
    for mode in args.paths.split(","):
        schema = f"intake_{uuid.uuid4().hex[:10]}"
        base = make_engine(args.database_url)
        with base.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
            connection.commit()
        try:
            engine = make_engine(args.database_url, connect_args={"options": f"-csearch_path={schema}"})
            upgrade(engine)
            engine.dispose()
            url = f"{args.database_url}?options=-csearch_path%3D{schema}"
            with tempfile.TemporaryDirectory(prefix="onevoice-intake-telegram-") as folder:
                tally = await crash_rounds(Path(folder), url, mode, args.rounds)
        finally:
            with base.connect() as connection:
                connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                connection.commit()
            base.dispose()
        print(tally.line(mode), flush=True)
        print(f"{mode}: acknowledged {tally.acknowledged} / lost {len(tally.lost)} / doubled {len(tally.doubled)}", flush=True)
        lost += len(tally.lost)
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
