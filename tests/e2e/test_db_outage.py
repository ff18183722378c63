"""PostgreSQL gone for 10 s while people type: each command answers that the database is unreachable and nothing was
changed, nothing is half-written, and the bot comes back by itself when the database does (commands, nudges, delivery).

The outage is played by a TCP proxy in front of the machine's PostgreSQL (tests/fakes/pg_proxy.py), not by stopping it.
"""

import asyncio
import socket
import threading
import time
from datetime import UTC, datetime

from sqlalchemy import make_url
from sqlmodel import select

from bot.app import OneVoice
from config.load import STARTER, load_config
from config.settings import Settings
from handlers.core.ports import Command, RoomRef, UserRef
from storage.db import session
from storage.models import ChecklistItem, Incident, Outbox, Room, TimelineEvent
from tests.conftest import private_schema
from tests.e2e.replicas import GENERAL, Replicas
from tests.e2e.run_process import free_port
from tests.fakes.pg_proxy import PgProxy
from tests.fakes.slack_api import unescape
from tests.fuzz import invariants

UNREACHABLE = "The database cannot be reached right now; nothing was changed. Try again in a moment."
OUTAGE = 10.0  # seconds
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
FAST = "\nseverities:\n  sev3: {first_statement: 15s, update_every: 4h, approval_nudge: 1h, review_within: 10d}\n"


class Traffic:
    """Slash commands every few tenths of a second: notes in the incident room, now and then a declare."""

    def __init__(self, replicas: Replicas, room: str):
        self.replicas, self.room = replicas, room
        self.sent: list[tuple[float, str]] = []  # (monotonic time, text)
        self.statuses: list[int] = []
        self.running = True

    async def run(self) -> None:
        n = 0
        while self.running:
            n += 1
            line = f"declare outage sev4 Declared {n}" if n % 5 == 0 else f"note tick {n}"
            channel = GENERAL if line.startswith("declare") else self.room
            self.sent.append((time.monotonic(), line))
            self.statuses.append(await self.replicas.post(0, *self.replicas.slash(line, channel=channel)))
            await asyncio.sleep(0.3)

    def between(self, start: float, end: float) -> list[str]:
        return [line for at, line in self.sent if start < at < end]


def unreachable_answers(replicas: Replicas) -> int:
    return sum(1 for m in replicas.fake.messages if m.get("ephemeral") and UNREACHABLE in unescape(m.get("text") or ""))


def posted(replicas: Replicas, words: str) -> int:
    return sum(1 for m in replicas.fake.messages if not m.get("ephemeral") and words in unescape(m.get("text") or ""))


async def until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        await asyncio.sleep(0.1)
    return value


async def test_ten_seconds_without_postgresql_users_are_told_to_retry_nothing_is_half_written_and_the_bot_recovers(tmp_path):
    replicas = None
    with private_schema() as (engine, direct):
        proxy = await PgProxy().start()
        try:
            through_proxy = make_url(direct).set(host="127.0.0.1", port=proxy.port).update_query_dict({"connect_timeout": "3"})
            url = through_proxy.render_as_string(hide_password=False)
            config = tmp_path / "onevoice.yaml"
            config.write_text(STARTER.read_text(encoding="utf-8") + FAST, encoding="utf-8")
            replicas = Replicas(tmp_path, url, config, START)
            await replicas.start(1)

            assert await replicas.post(0, *replicas.slash("declare outage sev3 Payments down")) == 200
            room = await until(
                lambda: next((i for i, c in replicas.fake.channels.items() if "payments-down" in c["name"]), None), 20, "room"
            )
            await until(lambda: _pending(engine) == 0, 20, "the declaration delivered")

            # An effect queued before the outage and still waiting when it starts: Slack fails its post twice (deferred 2 s).
            replicas.fake.fail_next("chat.postMessage", 500, times=2)
            assert await replicas.post(0, *replicas.slash("update Queued before the outage", channel=room)) == 200
            await until(lambda: _deferred(engine, "Queued before the outage"), 10, "the post deferred")

            traffic = Traffic(replicas, room)
            sending = asyncio.create_task(traffic.run())
            await until(lambda: len(traffic.statuses) >= 3, 20, "a few commands answered before the outage")
            await proxy.down()
            cut = time.monotonic()
            await asyncio.sleep(OUTAGE)
            await proxy.up()
            back = time.monotonic()
            during = traffic.between(cut + 0.5, back - 0.5)  # sent and answered while the database was surely away
            await until(lambda: _last_note_after(engine, traffic, back), 30, "a command working again, with nobody restarting anything")
            recovered = time.monotonic()
            await until(lambda: len(traffic.between(recovered + 0.5, time.monotonic())) >= 6, 30, "commands sent after the recovery")
            traffic.running = False
            await sending

            assert set(traffic.statuses) == {200}  # every command acknowledged, outage or not
            await until(lambda: unreachable_answers(replicas) >= len(during), 10, "an answer to each command during the outage")
            assert len(during) >= 20
            notes, titles = _notes(engine), _titles(engine)
            assert not [line for line in during if line.removeprefix("note ") in notes]  # nothing changed…
            assert not [line for line in during if line.startswith("declare") and line.split(" ", 3)[3] in titles]
            after = traffic.between(recovered + 0.5, time.monotonic())
            assert len(after) >= 5 and all(
                line.removeprefix("note ") in notes or line.split(" ", 3)[3] in titles for line in after
            )  # …and back

            await until(lambda: _pending(engine) == 0, 40, "the outbox drained after the outage")
            assert posted(replicas, "Queued before the outage") == 1  # delivered after the outage, exactly once
            await until(lambda: posted(replicas, "first approved statement is"), 30, "the golden-hour nudge, due during the outage")
            dms = [m["channel"] for m in replicas.fake.messages if "first approved statement is" in (m.get("text") or "")]
            assert len(dms) == len(set(dms))  # once per person

            with session(engine) as db:
                invariants.check(db, load_config(str(config)))
                _whole(db)
            await replicas.stop()
            replicas = None
        finally:
            if replicas is not None:  # stopped while the proxy still serves, so the failure is the test's, not the shutdown's
                await proxy.up()
                await replicas.stop()
            await proxy.stop()


def _pending(engine) -> int:
    with session(engine) as db:
        return len(db.exec(select(Outbox.id).where(Outbox.state == "pending")).all())


def _deferred(engine, words: str) -> bool:
    with session(engine) as db:
        rows = db.exec(select(Outbox).where(Outbox.state == "pending", Outbox.attempts >= 1)).all()
    return any(words in str(row.payload) for row in rows)


def _notes(engine) -> set[str]:
    with session(engine) as db:
        return set(db.exec(select(TimelineEvent.text).where(TimelineEvent.kind == "note")).all())


def _last_note_after(engine, traffic: Traffic, moment: float) -> bool:
    notes = _notes(engine)
    return any(line.removeprefix("note ") in notes for line in traffic.between(moment, time.monotonic()))


def _titles(engine) -> set[str]:
    with session(engine) as db:
        return set(db.exec(select(Incident.title)).all())


def _whole(db) -> None:
    """Every incident declared, outage or not, has its room opened with a card, its checklist and its declaration."""
    for incident in db.exec(select(Incident)):
        room = db.exec(select(Room).where(Room.incident_id == incident.id)).one()
        assert room.external_id and room.card_message_id, f"#{incident.id} {incident.title}: room {room}"
        assert db.exec(select(ChecklistItem.id).where(ChecklistItem.incident_id == incident.id)).first(), f"#{incident.id} has no checklist"
        assert db.exec(select(TimelineEvent.id).where(TimelineEvent.incident_id == incident.id, TimelineEvent.kind == "declared")).first()


def test_the_try_again_answer_in_chinese(tmp_path):
    nowhere = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test?connect_timeout=2"  # nothing listens there
    config = load_config(None).model_copy(update={"language": "zh"})
    bot = OneVoice(Settings(ONEVOICE_DATABASE_URL=nowhere), config=config, migrate=False)
    reply = bot.handle(Command(UserRef("slack", "U0ALICE"), "status", RoomRef("slack", "C0GENERAL"), "slack:t1"))
    assert not reply.ok and reply.message.plain() == "暂时无法连接数据库，未做任何更改。请稍后再试。"
    bot.engine.dispose()


def test_the_try_again_answer_in_english(tmp_path):
    nowhere = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test?connect_timeout=2"
    bot = OneVoice(Settings(ONEVOICE_DATABASE_URL=nowhere), config=load_config(None), migrate=False)
    reply = bot.handle(Command(UserRef("slack", "U0ALICE"), "declare outage sev2 Nothing", RoomRef("slack", "C0GENERAL")))
    assert not reply.ok and reply.message.plain() == UNREACHABLE
    bot.engine.dispose()


def test_a_database_that_accepts_connections_but_never_answers_gets_the_try_again_answer_not_a_hang(tmp_path):
    with socket.socket() as silent:  # a server gone mute (a network partition): the connection opens, nothing comes back
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"postgresql+psycopg://postgres@127.0.0.1:{silent.getsockname()[1]}/test"
        bot = OneVoice(Settings(ONEVOICE_DATABASE_URL=url), config=load_config(None), migrate=False)
        replies = []
        worker = threading.Thread(target=lambda: replies.append(bot.handle(Command(UserRef("slack", "U0ALICE"), "list"))), daemon=True)
        worker.start()
        worker.join(120)  # not a speed check: without a connect timeout it would wait forever
        assert replies and replies[0].message.plain() == UNREACHABLE
        bot.engine.dispose()
