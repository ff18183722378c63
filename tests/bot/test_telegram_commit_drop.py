"""A typed Telegram command whose database connection drops at its commit gets one true answer: the answer written with
it if the commit landed, "nothing was changed" if it did not, and no answer at all (the update is not acknowledged, so
Telegram sends it again) while nobody can tell which."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from bot.outbox.unsure import UNSURE_FOR
from bot.telegram import poller as telegram_poller
from bot.telegram.poller import TelegramPoller
from storage.models import Outbox
from tests.bot.telegram_world import ALICE, SECRET, TelegramWorld

UNREACHABLE = "cannot be reached"
TASK = "/crisis #1 task Call the supplier back"


class Connection:
    """Makes the database connection drop at the commit of the next typed command (the one writing an answer)."""

    def __init__(self, monkeypatch):
        self.mode: str | None = None  # "after": the commit lands, then the drop; "before": it never reaches the server
        self.down = 0  # how many of the next statements fail too (the database stays away that long)
        real_commit, real_execute = Session.commit, Session.execute
        connection = self

        def commit(session):
            if connection.down:
                connection.down -= 1
                raise _dropped()
            mode = connection.mode if any(isinstance(o, Outbox) and o.kind == "answer" for o in session.new) else None
            if mode == "before":
                connection.mode = None
                raise _dropped()
            real_commit(session)
            if mode == "after":
                connection.mode = None
                raise _dropped()

        def execute(session, *args, **kwargs):
            if connection.down:
                connection.down -= 1
                raise _dropped()
            return real_execute(session, *args, **kwargs)

        monkeypatch.setattr(Session, "commit", commit)
        monkeypatch.setattr(Session, "execute", execute)


def _dropped() -> OperationalError:
    return OperationalError("COMMIT", {}, ConnectionError("server closed the connection unexpectedly"))


@pytest.fixture
def connection(monkeypatch):
    return Connection(monkeypatch)


def declared(world: TelegramWorld) -> None:
    world.command(ALICE, "/crisis declare outage sev3 Commit drop", chat=ALICE)


def new_answers(world: TelegramWorld, before: int) -> list[str]:
    return world.said_to(ALICE)[before:]


def after_any_lease(world: TelegramWorld) -> None:
    """Long enough for a held answer's lease to run out, and the delivery passes that would then send it."""
    world.clock.advance(world.bot.lease + timedelta(seconds=1))
    world.run(world.bot.deliver())
    world.run(world.bot.deliver())


def tasks(world: TelegramWorld) -> str:
    world.command(ALICE, "/crisis #1 tasks all", chat=ALICE)
    return world.said_to(ALICE)[-1]


def webhook(world: TelegramWorld, update: dict) -> Callable[[], Awaitable[int]]:
    """What POSTs `update` to the webhook as Telegram does, answering the HTTP status (run it with world.run)."""

    async def post() -> int:
        headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
        response = await world.http.post("/telegram/webhook", content=json.dumps(update).encode(), headers=headers)
        return response.status_code

    return post


def test_a_commit_that_landed_before_the_connection_dropped_is_answered_once_and_truly(world, connection):
    declared(world)
    before = len(world.said_to(ALICE))
    connection.mode = "after"
    world.command(ALICE, TASK, chat=ALICE)
    after_any_lease(world)
    said = new_answers(world, before)
    assert len(said) == 1, said  # one answer, not "nothing was changed" and then the task's answer
    assert UNREACHABLE not in said[0] and "nothing was changed" not in said[0]
    assert tasks(world).count("Call the supplier back") == 1


def test_a_commit_that_never_landed_is_answered_nothing_was_changed_once(world, connection):
    declared(world)
    before = len(world.said_to(ALICE))
    connection.mode = "before"
    world.command(ALICE, TASK, chat=ALICE)
    after_any_lease(world)
    said = new_answers(world, before)
    assert len(said) == 1 and UNREACHABLE in said[0], said
    assert "Call the supplier back" not in tasks(world)


def test_while_nobody_can_tell_whether_it_landed_the_update_is_not_acknowledged_and_its_redelivery_answers_once(world, connection):
    declared(world)
    before = len(world.said_to(ALICE))
    update = world.fake.command_update(ALICE, TASK, chat_id=ALICE)

    post = webhook(world, update)

    connection.mode = "after"
    real_handle = world.bot.handle

    def handle_then_stay_away(command, answer=None):
        try:
            return real_handle(command, answer)
        finally:
            connection.down = 1000  # the database is away from the moment the commit dropped

    world.bot.handle = handle_then_stay_away
    assert world.run(post()) == 500  # not acknowledged: Telegram sends it again
    assert new_answers(world, before) == []  # nothing said while it is unknown
    world.bot.handle, connection.down = real_handle, 0
    assert world.run(post()) == 200  # the redelivery, once the database is back
    after_any_lease(world)
    said = new_answers(world, before)
    assert len(said) == 1 and UNREACHABLE not in said[0], said
    assert tasks(world).count("Call the supplier back") == 1


def test_by_polling_an_unsettled_commit_is_confirmed_only_once_its_retry_has_answered_once(world, connection, monkeypatch):
    monkeypatch.setattr(telegram_poller, "BACKOFF_FIRST", 0.05)
    declared(world)
    before = len(world.said_to(ALICE))
    real_handle, tries = world.bot.handle, []

    def handle(command, answer=None):
        tries.append(command.event_id)
        if len(tries) == 1:
            connection.mode = "after"
        try:
            return real_handle(command, answer)
        finally:
            if len(tries) == 1:
                connection.down = 1  # the check that follows fails too; the database is back for the next try

    world.bot.handle = handle
    update = world.fake.command_update(ALICE, TASK, chat_id=ALICE)
    world.fake.queue_update(update)
    poller = TelegramPoller(world.application, poll_seconds=0.3)

    async def poll_until_confirmed() -> None:
        await poller.start()
        try:
            while world.fake.confirmed <= update["update_id"]:
                await asyncio.sleep(0.01)
        finally:
            await poller.stop()

    world.run(asyncio.wait_for(poll_until_confirmed(), 30))
    assert len(tries) == 2  # not confirmed after the first try: it was fetched and handled again
    after_any_lease(world)
    said = new_answers(world, before)
    assert len(said) == 1 and UNREACHABLE not in said[0], said
    assert tasks(world).count("Call the supplier back") == 1


class Polled:
    """A poller taking one typed command whose commit drops, after which the database stays away until told."""

    def __init__(self, world: TelegramWorld, connection: Connection, monkeypatch):
        monkeypatch.setattr(telegram_poller, "BACKOFF_FIRST", 0.01)
        monkeypatch.setattr(telegram_poller, "BACKOFF_MAX", 0.05)
        self.world, self.connection, self.tries = world, connection, []
        real_handle = world.bot.handle

        def handle(command, answer=None):
            self.tries.append(command.event_id)
            if len(self.tries) == 1:
                connection.mode = "after"
            try:
                return real_handle(command, answer)
            finally:
                if len(self.tries) == 1:
                    connection.down = 10**9  # away from the moment the commit dropped, until the test says otherwise

        world.bot.handle = handle
        self.update = world.fake.command_update(ALICE, TASK, chat_id=ALICE)
        world.fake.queue_update(self.update)
        self.poller = TelegramPoller(world.application, poll_seconds=0.3)

    def confirmed(self) -> bool:
        return self.world.fake.confirmed > self.update["update_id"]

    async def until(self, condition) -> None:
        while not condition():
            await asyncio.sleep(0.01)

    def run(self, *steps) -> None:
        """Poll while each step runs in turn (a coroutine function), then stop the poller."""

        async def polling() -> None:
            await self.poller.start()
            try:
                for step in steps:
                    await step()
            finally:
                await self.poller.stop()

        self.world.run(asyncio.wait_for(polling(), 60))


def test_by_polling_a_command_is_not_confirmed_however_long_its_commit_cannot_be_checked(world, connection, monkeypatch):
    declared(world)
    before = len(world.said_to(ALICE))
    polled = Polled(world, connection, monkeypatch)

    async def away_longer_than_the_attempts_of_a_failing_update() -> None:
        await polled.until(lambda: len(polled.tries) > 2 * telegram_poller.ATTEMPTS)
        assert not polled.confirmed()  # Telegram keeps it: nothing is lost
        assert new_answers(world, before) == []  # and nothing untrue is said
        connection.down = 0

    async def back() -> None:
        await polled.until(polled.confirmed)

    polled.run(away_longer_than_the_attempts_of_a_failing_update, back)
    after_any_lease(world)
    said = new_answers(world, before)
    assert len(said) == 1 and UNREACHABLE not in said[0], said  # its own answer, once
    assert tasks(world).count("Call the supplier back") == 1


def test_by_polling_a_command_whose_commit_stays_unknown_too_long_is_answered_that_nobody_can_tell(world, connection, monkeypatch):
    declared(world)
    before = len(world.said_to(ALICE))
    polled = Polled(world, connection, monkeypatch)

    async def away_too_long() -> None:
        await polled.until(lambda: len(polled.tries) > telegram_poller.ATTEMPTS)
        assert not polled.confirmed() and new_answers(world, before) == []
        world.clock.advance(UNSURE_FOR + timedelta(seconds=1))
        await polled.until(polled.confirmed)

    polled.run(away_too_long)
    said = new_answers(world, before)
    assert len(said) == 1 and "could not tell whether your command was recorded" in said[0], said
    assert "/crisis status" in said[0]
    connection.down = 0  # the database is back: the commit had landed, so its own answer follows, once
    after_any_lease(world)
    said = new_answers(world, before)
    assert len(said) == 2 and said[1].startswith("Added item"), said
    assert tasks(world).count("Call the supplier back") == 1
