"""A typed command's answer is sent at once and marked sent just after, off the update's path: another replica never
sends it again once its lease runs out, even when the mark had to wait for the database (longer than a lease) or for a
shutdown. Only a worker that dies between its send and its mark leaves it to be sent again: Telegram cannot tell a
repeated sendMessage from a new one, so after such a crash the answer arrives at least once."""

import asyncio
from datetime import timedelta

from sqlalchemy.exc import OperationalError

from bot.outbox import worker
from tests.bot.telegram_world import ALICE, TelegramWorld

LISTED = "incident"


def listed(world: TelegramWorld) -> list[str]:
    return [said for said in world.said_to(ALICE) if LISTED in said]


def sent_again_after_the_lease(database: str, meanwhile=lambda: None) -> list[str]:
    """What another replica sends once every lease of the first has run out, and again once a takeover may send it
    (`meanwhile` runs between the two: the database comes back)."""
    other = TelegramWorld(database, restart=1)
    try:
        other.clock.advance(other.bot.lease + timedelta(seconds=1))
        other.run(other.bot.deliver())
        meanwhile()
        other.clock.advance(other.bot.deliverers["telegram"].leases.takeover)
        other.run(other.bot.deliver())
        other.run(other.bot.deliver())
        return listed(other)
    finally:
        other.close()


def stop_marking(world: TelegramWorld) -> None:
    """The marking loop of a worker whose marks never get written ends with the test (or with its process)."""
    marking = world.bot.deliverers["telegram"]._marking
    if marking is not None:
        marking.cancel()
        world.run(asyncio.sleep(0))


def database_away(monkeypatch, deliverer) -> list[bool]:
    """The marks and the lease renewals of `deliverer` fail while the returned flag is set."""
    write, renew, away = deliverer.write_marks, deliverer.leases.renew, [True]

    def failing(real):
        def call(*args):
            if away[0]:
                raise OperationalError("UPDATE", {}, ConnectionError("the database restarts"))
            return real(*args)

        return call

    monkeypatch.setattr(deliverer, "write_marks", failing(write))
    monkeypatch.setattr(deliverer.leases, "renew", failing(renew))
    monkeypatch.setattr(worker, "MARK_RETRY", 0.01)
    return away


def test_an_answer_sent_at_once_is_not_sent_again_by_another_replica_once_its_lease_runs_out(database):
    first = TelegramWorld(database)
    try:
        first.command(ALICE, "/crisis list", chat=ALICE)
        first.command(ALICE, "/crisis list", chat=ALICE)
        assert len(listed(first)) == 2
        assert sent_again_after_the_lease(database) == []
    finally:
        stop_marking(first)
        first.close()


def test_a_mark_that_waited_for_the_database_is_written_once_it_is_back(database, monkeypatch):
    first = TelegramWorld(database)
    try:
        deliverer = first.bot.deliverers["telegram"]
        away = database_away(monkeypatch, deliverer)
        first.command(ALICE, "/crisis list", chat=ALICE)
        assert len(listed(first)) == 1  # the person has the answer at once, whatever the database does afterwards
        away[0] = False
        assert first.run(deliverer.settle())
        assert sent_again_after_the_lease(database) == []
    finally:
        stop_marking(first)
        first.close()


def test_an_answer_whose_mark_waits_for_the_database_longer_than_its_lease_is_not_sent_again(database, monkeypatch):
    first = TelegramWorld(database)
    try:
        deliverer = first.bot.deliverers["telegram"]
        away = database_away(monkeypatch, deliverer)
        first.command(ALICE, "/crisis list", chat=ALICE)
        assert len(listed(first)) == 1

        def database_back() -> None:  # the first worker, alive, writes its mark within a retry
            away[0] = False
            first.run(asyncio.wait_for(deliverer._marking, 10))

        assert sent_again_after_the_lease(database, meanwhile=database_back) == []
        assert len(listed(first)) == 1
    finally:
        stop_marking(first)
        first.close()


def test_while_a_mark_fails_with_the_database_up_its_lease_is_kept_renewed(database, monkeypatch):
    first = TelegramWorld(database)
    try:
        deliverer = first.bot.deliverers["telegram"]
        monkeypatch.setattr(deliverer, "write_marks", lambda: (_ for _ in ()).throw(RuntimeError("a bug in the mark")))
        monkeypatch.setattr(deliverer.leases, "heartbeat", 0.02)
        monkeypatch.setattr(worker, "MARK_RETRY", 0.01)
        renew, renewed, late = deliverer.leases.renew, asyncio.Event(), [first.clock.now() + first.bot.lease]

        def renewing(ids: list[int]) -> int:
            at = first.clock.now()
            count = renew(ids)
            if count and at >= late[0]:  # a renewal made once the lease written with the command had nearly run out
                first.loop.call_soon_threadsafe(renewed.set)
            return count

        monkeypatch.setattr(deliverer.leases, "renew", renewing)
        first.command(ALICE, "/crisis list", chat=ALICE)
        late[0] = first.clock.now() + first.bot.lease - timedelta(seconds=1)
        first.clock.advance(first.bot.lease - timedelta(seconds=1))
        first.run(asyncio.wait_for(renewed.wait(), 10))
        assert sent_again_after_the_lease(database) == []
        assert len(listed(first)) == 1
    finally:
        stop_marking(first)
        first.close()


def test_the_worker_that_sent_an_answer_never_sends_it_again_itself_while_its_mark_waits(database, monkeypatch):
    first = TelegramWorld(database)
    try:
        deliverer = first.bot.deliverers["telegram"]
        monkeypatch.setattr(deliverer, "write_marks", lambda: (_ for _ in ()).throw(RuntimeError("a bug in the mark")))
        first.command(ALICE, "/crisis list", chat=ALICE)
        first.clock.advance(first.bot.lease + timedelta(seconds=1))  # its own lease ran out: its own pass may claim it
        first.run(first.bot.deliver())
        assert len(listed(first)) == 1
        assert sent_again_after_the_lease(database) == []  # and the pass wrote the mark
    finally:
        stop_marking(first)
        first.close()


def test_a_worker_that_died_between_its_send_and_its_mark_leaves_the_answer_to_be_sent_again(database, monkeypatch):
    first = TelegramWorld(database)
    try:
        deliverer = first.bot.deliverers["telegram"]
        database_away(monkeypatch, deliverer)
        first.command(ALICE, "/crisis list", chat=ALICE)
        assert len(listed(first)) == 1
        stop_marking(first)  # the process is gone: no mark, no renewal, no release
        assert len(sent_again_after_the_lease(database)) == 1  # at least once: Telegram cannot de-duplicate a send
    finally:
        stop_marking(first)
        first.close()


def test_a_shutdown_marks_the_answers_sent_before_handing_back_its_leases(database, monkeypatch):
    first = TelegramWorld(database)
    try:
        deliverer = first.bot.deliverers["telegram"]

        async def not_yet() -> bool:
            return False  # the marks still wait when the shutdown comes

        monkeypatch.setattr(deliverer, "settle", not_yet)
        first.command(ALICE, "/crisis list", chat=ALICE)
        assert len(listed(first)) == 1
        first.bot.stop_taking_work()
        first.bot.release_leases()
        assert sent_again_after_the_lease(database) == []
    finally:
        stop_marking(first)
        first.close()
