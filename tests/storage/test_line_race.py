"""At most one current approved version per incident, held by the database even when approvals race."""

import threading
import time

import pytest
from sqlalchemy import event
from sqlmodel import select

from handlers.core.ports import Command, RoomRef, UserRef
from handlers.router import dispatch
from storage.db import session
from storage.models import Statement
from tests.conftest import Chat

TEXT = "We are sorry for the worry. Version {n}. Next update at 11:00."


def two_drafts_with_legal_approval(chat: Chat, title: str) -> tuple[int, str]:
    """An incident with v1 and v2 pending, each approved by legal and waiting for the commander."""
    incident_id, room = chat.declare(line=f"declare product-quality sev2 {title}")
    for n in (1, 2):
        assert chat.say("carol", f"draft {TEXT.format(n=n)}", room).ok
        assert chat.say("bob", f"approve v{n}", room).ok
    return incident_id, room


def approved_versions(chat: Chat, incident_id: int) -> list[int]:
    with session(chat.engine) as db:
        return list(db.exec(select(Statement.version).where(Statement.incident_id == incident_id, Statement.state == "approved")))


def approve(chat: Chat, room: str, version: int, pause: threading.Event | None = None, results: list | None = None):
    """Alice approves a version in her own session; optionally holds the transaction open just before commit."""
    command = Command(UserRef("console", "alice"), f"approve v{version}", RoomRef("console", room))
    with session(chat.engine) as db:
        if pause is not None:

            @event.listens_for(db, "before_commit")
            def hold(held):
                pause.set()
                waiting_for(held.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar(), chat.engine)

        reply = dispatch(db, chat.deps, command)
    if results is not None:
        results.append((version, reply))
    return reply


def waiting_for(holder: int, engine, timeout: float = 10) -> None:
    """Return once another session waits for the PostgreSQL backend `holder` (the racing approval ran into its transaction)."""
    deadline = time.monotonic() + timeout
    blocked = "SELECT count(*) FROM pg_stat_activity WHERE %(holder)s = ANY(pg_blocking_pids(pid))"
    with engine.connect() as connection:
        while not connection.exec_driver_sql(blocked, {"holder": holder}).scalar():
            assert time.monotonic() < deadline, "the racing approval never waited on this transaction"
            connection.rollback()
            time.sleep(0.01)


def race(chat: Chat, room: str, version: int, start: threading.Barrier, results: list) -> None:
    """Wait for the other racer, then approve."""
    start.wait(10)
    approve(chat, room, version, results=results)


@pytest.mark.parametrize("any_engine", ["postgresql"], indirect=True)
def test_an_approval_racing_an_open_one_is_refused_and_one_line_results(any_engine, config, clock):
    chat = Chat(any_engine, config, clock)
    incident_id, room = two_drafts_with_legal_approval(chat, "Race held open")
    holding, results = threading.Event(), []
    first = threading.Thread(target=approve, args=(chat, room, 1, holding, results))
    first.start()
    assert holding.wait(10)
    second = approve(chat, room, 2)  # blocks on the unique index until the first commits, then loses
    first.join(10)
    assert results[0][1].ok and "v1 is now the approved line" in results[0][1].message.plain()
    assert not second.ok and "decided at the same moment; nothing was changed" in second.message.plain()
    assert approved_versions(chat, incident_id) == [1]


@pytest.mark.parametrize("any_engine", ["postgresql"], indirect=True)
def test_approvals_released_together_leave_exactly_one_current_line(any_engine, config, clock):
    chat = Chat(any_engine, config, clock)
    for round_number in range(8):
        incident_id, room = two_drafts_with_legal_approval(chat, f"Race round {round_number}")
        start, results = threading.Barrier(2), []
        threads = [threading.Thread(target=race, args=(chat, room, v, start, results)) for v in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        winners = approved_versions(chat, incident_id)
        assert len(winners) == 1, (round_number, winners)
        ok = {version for version, reply in results if reply.ok}
        assert winners[0] in ok  # whoever the database kept was told so
        for _version, reply in results:
            if not reply.ok:
                assert "nothing was changed" in reply.message.plain() or "superseded" in reply.message.plain()
