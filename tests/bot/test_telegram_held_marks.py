"""A typed command's answer is sent at once and marked sent just after, off the update's path: another replica never
sends it again once its lease runs out, even when the mark had to wait for the database or for a shutdown."""

from datetime import timedelta

from sqlalchemy.exc import OperationalError

from bot.outbox import worker
from tests.bot.telegram_world import ALICE, TelegramWorld

LISTED = "incident"


def listed(world: TelegramWorld) -> list[str]:
    return [said for said in world.said_to(ALICE) if LISTED in said]


def sent_again_after_the_lease(database: str) -> list[str]:
    """What another replica sends once every lease of the first has run out."""
    other = TelegramWorld(database, restart=1)
    try:
        other.clock.advance(other.bot.lease + timedelta(seconds=1))
        other.run(other.bot.deliver())
        return listed(other)
    finally:
        other.close()


def test_an_answer_sent_at_once_is_not_sent_again_by_another_replica_once_its_lease_runs_out(database):
    first = TelegramWorld(database)
    try:
        first.command(ALICE, "/crisis list", chat=ALICE)
        first.command(ALICE, "/crisis list", chat=ALICE)
        assert len(listed(first)) == 2
        assert sent_again_after_the_lease(database) == []
    finally:
        first.close()


def test_a_mark_that_waited_for_the_database_is_written_once_it_is_back(database, monkeypatch):
    first = TelegramWorld(database)
    try:
        deliverer = first.bot.deliverers["telegram"]
        write, away = deliverer.write_marks, [True]

        def write_marks() -> int:
            if away[0]:
                raise OperationalError("UPDATE", {}, ConnectionError("the database restarts"))
            return write()

        monkeypatch.setattr(deliverer, "write_marks", write_marks)
        monkeypatch.setattr(worker, "MARK_RETRY", 0.01)
        first.command(ALICE, "/crisis list", chat=ALICE)
        assert len(listed(first)) == 1  # the person has the answer at once, whatever the database does afterwards
        away[0] = False
        assert first.run(deliverer.settle())
        assert sent_again_after_the_lease(database) == []
    finally:
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
        first.close()
