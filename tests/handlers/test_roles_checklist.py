"""Role and checklist rules: handoff, ack, assign, and the life of checklist items.

Incident #1 is product-quality sev2 declared by alice: commander=alice, comms=alice,
spokesperson=carol, legal=bob, monitor=dave, scribe=dave, liaison=erin. Legal owns
checklist items 5 and 9; item 1 (monitor, dave) is due 15 minutes after declaring.
"""

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from handlers.core.effects import DM
from storage.db import session
from storage.models import ChecklistItem, Nudge, RoleAssignment, TimelineEvent


@pytest.fixture
def room(chat) -> str:
    incident_id, room = chat.declare()
    assert incident_id == 1
    roles = chat.say("alice", "roles", room).message.plain()
    assert "Legal counsel: Bob Li (not accepted yet)" in roles
    assert "Monitoring lead: Dave Zhang (not accepted yet)" in roles
    return room


def dms_to(chat, handle: str) -> list[str]:
    """The plain text of every DM queued for a console handle."""
    return [dm.message.plain() for dm in chat.effects(DM) if dm.to == handle]


def assignments(chat, role: str) -> list[RoleAssignment]:
    with session(chat.engine) as db:
        return list(db.exec(select(RoleAssignment).where(RoleAssignment.role == role).order_by(RoleAssignment.id)))


def item(chat, number: int) -> ChecklistItem:
    with session(chat.engine) as db:
        return db.exec(select(ChecklistItem).where(ChecklistItem.incident_id == 1, ChecklistItem.number == number)).one()


def overdue_nudges(chat, number: int) -> list[Nudge]:
    with session(chat.engine) as db:
        query = select(Nudge).where(Nudge.kind == "task_overdue", Nudge.subject == str(number)).order_by(Nudge.id)
        return list(db.exec(query))


def ack_nudge(chat, role: str, person: str) -> Nudge:
    with session(chat.engine) as db:
        return db.exec(select(Nudge).where(Nudge.kind == "role_ack", Nudge.subject == f"{role}:{person}")).one()


# ---- handoff


@pytest.mark.parametrize("actor", ["bob", "alice"], ids=["by-the-holder", "by-the-commander"])
def test_handoff_moves_the_role_and_tells_both_people(chat, clock, room, actor):
    clock.advance(timedelta(minutes=7))
    dms_to_bob = len(dms_to(chat, "bob"))
    reply = chat.say(actor, "handoff legal @erin", room)
    assert reply.ok, reply.message.plain()
    assert "Erin Liu is now Legal counsel in #1." in reply.message.plain()

    old_holder_dms = dms_to(chat, "bob")[dms_to_bob:]
    assert len(old_holder_dms) == 1 and "handed Legal counsel in #1 to Erin Liu" in old_holder_dms[0]
    assert "you are released from it" in old_holder_dms[0]
    brief = dms_to(chat, "erin")[-1]
    assert "You are Legal counsel in incident #1 “Battery overheating”." in brief
    assert "Review every statement before it goes out" in brief  # the duty text
    assert "Type /crisis #1 ack to accept." in brief

    old, new = assignments(chat, "legal")
    assert (old.person, old.ended_at) == ("bob", clock.now())
    assert (new.person, new.ended_at, new.assigned_by) == ("erin", None, actor)
    assert "Legal counsel: Erin Liu (not accepted yet)" in chat.say("dave", "roles", room).message.plain()
    assert any("Legal counsel: Bob Li → Erin Liu" in post for post in chat.posts())


def test_handoff_moves_open_items_owned_through_the_role_but_not_finished_ones(chat, room):
    assert (item(chat, 5).owner_person, item(chat, 9).owner_person) == ("bob", "bob")
    assert chat.say("bob", "done 5", room).ok
    assert chat.say("alice", "task Brief outside counsel @legal", room).ok  # item 15, owned by the legal role
    assert chat.say("alice", "task Sign the NDA @bob", room).ok  # item 16, owned by bob himself
    assert chat.say("bob", "handoff legal @erin", room).ok
    assert item(chat, 9).owner_person == "erin"  # open, through the role: follows it
    assert item(chat, 15).owner_person == "erin"
    assert item(chat, 5).owner_person == "bob"  # done: stays with who did it
    assert item(chat, 16).owner_person == "bob"  # given to bob by name, not through the role
    mine = chat.say("erin", "tasks mine", room).message.plain()
    assert "Assess reporting duties" in mine and "Brief outside counsel" in mine


def test_handoff_clears_the_old_holders_ack_nudge_and_starts_the_new_one(chat, room):
    assert chat.say("bob", "handoff legal @erin", room).ok
    assert ack_nudge(chat, "legal", "bob").state == "cleared"
    assert ack_nudge(chat, "legal", "erin").state == "pending"


def test_a_role_has_exactly_one_current_holder_after_handoffs(chat, room):
    for actor, line in [("bob", "handoff legal @erin"), ("erin", "handoff legal @carol"), ("alice", "handoff legal @bob")]:
        assert chat.say(actor, line, room).ok, line
    history = assignments(chat, "legal")
    assert [a.person for a in history] == ["bob", "erin", "carol", "bob"]
    assert [a.person for a in history if a.ended_at is None] == ["bob"]


def test_the_database_refuses_a_second_current_holder(chat, clock, room):
    with session(chat.engine) as db:
        db.add(RoleAssignment(incident_id=1, role="legal", person="erin", assigned_by="alice", assigned_at=clock.now()))
        with pytest.raises(IntegrityError, match="ux_one_holder_per_role|UNIQUE"):
            db.commit()
    assert [a.person for a in assignments(chat, "legal") if a.ended_at is None] == ["bob"]


def test_the_database_keeps_ended_holders_as_history(chat, clock, room):
    with session(chat.engine) as db:
        db.add(
            RoleAssignment(incident_id=1, role="legal", person="erin", assigned_by="alice", assigned_at=clock.now(), ended_at=clock.now())
        )
        db.commit()
    assert [a.person for a in assignments(chat, "legal")] == ["bob", "erin"]


def test_after_handoff_the_overdue_nudge_of_a_role_task_goes_to_the_new_holder(chat, room):
    """Was: the nudge targeted person:bob, so the released holder was still nudged about erin's item."""
    assert chat.say("alice", "task Brief outside counsel @legal in 30m", room).ok  # item 15
    assert chat.say("bob", "handoff legal @erin", room).ok
    assert item(chat, 15).owner_person == "erin"
    pending = [n.target for n in overdue_nudges(chat, 15) if n.state == "pending"]
    assert pending == ["role:legal"]  # whoever holds legal when it fires


# ---- ack


def test_ack_accepts_the_role_and_clears_its_nudge(chat, clock, room):
    assert ack_nudge(chat, "legal", "bob").state == "pending"
    clock.advance(timedelta(minutes=3))
    reply = chat.say("bob", "ack", room)
    assert reply.ok and "Bob Li accepted: Legal counsel." in reply.message.plain()
    assert ack_nudge(chat, "legal", "bob").state == "cleared"
    assert assignments(chat, "legal")[0].acked_at == clock.now()
    assert "Legal counsel: Bob Li ✓" in chat.say("dave", "roles", room).message.plain()
    assert ack_nudge(chat, "spokesperson", "carol").state == "pending"  # others still owe theirs


def test_ack_accepts_every_role_i_hold_at_once(chat, room):
    reply = chat.say("dave", "ack", room)
    assert reply.ok and "Dave Zhang accepted: Monitoring lead, Scribe." in reply.message.plain()
    assert ack_nudge(chat, "monitor", "dave").state == "cleared"
    assert ack_nudge(chat, "scribe", "dave").state == "cleared"


def test_a_second_ack_is_refused_and_changes_nothing(chat, room):
    assert chat.say("bob", "ack", room).ok
    before = chat.snapshot()
    reply = chat.say("bob", "ack", room)
    assert reply.ok is False and "You have no role waiting to be accepted in #1." in reply.message.plain()
    assert chat.snapshot() == before


def test_a_new_role_after_ack_needs_its_own_ack(chat, room):
    assert chat.say("bob", "ack", room).ok
    assert chat.say("alice", "assign exec @bob", room).ok
    reply = chat.say("bob", "ack", room)
    assert reply.ok and "Bob Li accepted: Executive sponsor." in reply.message.plain()


# ---- assign


def test_assign_replaces_the_holder_and_tells_both(chat, clock, room):
    clock.advance(timedelta(minutes=2))
    dms_to_bob = len(dms_to(chat, "bob"))
    reply = chat.say("alice", "assign legal @erin", room)
    assert reply.ok and "Erin Liu is now Legal counsel in #1." in reply.message.plain()
    assert "Note:" not in reply.message.plain()  # erin is on the legal rota
    old, new = assignments(chat, "legal")
    assert (old.person, old.ended_at) == ("bob", clock.now())
    assert (new.person, new.ended_at) == ("erin", None)
    assert "Alice Chen handed Legal counsel in #1 to Erin Liu." in dms_to(chat, "bob")[dms_to_bob]
    assert "You are Legal counsel in incident #1" in dms_to(chat, "erin")[-1]
    assert ack_nudge(chat, "legal", "bob").state == "cleared"
    assert ack_nudge(chat, "legal", "erin").state == "pending"
    assert item(chat, 9).owner_person == "erin"
    with session(chat.engine) as db:
        event = db.exec(select(TimelineEvent).where(TimelineEvent.kind == "role")).one()
    assert (event.text, event.data) == ("legal", {"person": "erin", "previous": "bob"})


def test_assign_fills_an_empty_role_and_gives_it_the_roles_items(chat, room):
    assert item(chat, 11).owner_person is None  # exec is not required at sev2
    assert chat.say("alice", "assign @bob exec", room).ok  # person first works too
    assert [a.person for a in assignments(chat, "exec")] == ["bob"]
    assert item(chat, 11).owner_person == "bob"


def test_assign_off_the_rota_is_allowed_with_a_note(chat, room):
    reply = chat.say("alice", "assign legal @carol", room)
    assert reply.ok and "Note: Carol Wang is not on the Legal counsel rota in the team model." in reply.message.plain()


# ---- done, skip, undo


@pytest.mark.parametrize(
    ("actor", "line", "state", "reason"),
    [
        ("dave", "done 1", "done", None),
        ("bob", "done #1", "done", None),
        ("erin", "skip 1 Reports already collected by the call centre", "skipped", "Reports already collected by the call centre"),
        ("carol", "skip 1 无需处理 🙅", "skipped", "无需处理 🙅"),
    ],
)
def test_done_and_skip_record_state_who_and_when(chat, clock, room, actor, line, state, reason):
    clock.advance(timedelta(minutes=4))
    reply = chat.say(actor, line, room)
    assert reply.ok, reply.message.plain()
    changed = item(chat, 1)
    assert (changed.state, changed.reason, changed.changed_by, changed.changed_at) == (state, reason, actor, clock.now())
    assert any("changed item 1:" in post for post in chat.posts())


@pytest.mark.parametrize("first", ["done 1", "skip 1 Not needed"])
def test_undo_reopens_an_item_and_records_who(chat, clock, room, first):
    assert chat.say("dave", first, room).ok
    clock.advance(timedelta(minutes=1))
    assert chat.say("carol", "undo 1", room).ok
    reopened = item(chat, 1)
    assert (reopened.state, reopened.reason, reopened.changed_by, reopened.changed_at) == ("open", None, "carol", clock.now())
    with session(chat.engine) as db:
        kinds = [
            e.kind
            for e in db.exec(select(TimelineEvent).where(TimelineEvent.kind.in_(("done", "skip", "undo"))).order_by(TimelineEvent.id))
        ]
    assert kinds == [first.split()[0], "undo"]


@pytest.mark.parametrize(
    ("setup", "line", "reason"),
    [
        ([], "skip 1", "Say why the item is skipped."),
        ([], "undo 1", "Item 1 is already open."),
        (["done 1"], "done 1", "Item 1 is already done; /crisis undo 1 reopens it."),
        (["done 1"], "skip 1 Not needed", "Item 1 is already done; /crisis undo 1 reopens it."),
        (["skip 1 Not needed"], "done 1", "Item 1 is already skipped; /crisis undo 1 reopens it."),
        (["skip 1 Not needed"], "skip 1 Still not needed", "Item 1 is already skipped"),
    ],
    ids=["skip-without-reason", "undo-open", "done-done", "skip-done", "done-skipped", "skip-skipped"],
)
def test_an_item_change_that_does_not_fit_its_state_is_refused(chat, room, setup, line, reason):
    for earlier in setup:
        assert chat.say("dave", earlier, room).ok
    state_before = item(chat, 1).state
    before = chat.snapshot()
    reply = chat.say("dave", line, room)
    assert reply.ok is False and reason in reply.message.plain()
    assert chat.snapshot() == before
    assert item(chat, 1).state == state_before


# ---- task: owner and due time


def test_task_for_a_person_with_a_due_time_schedules_its_overdue_nudge(chat, clock, room):
    clock.advance(timedelta(minutes=12))
    reply = chat.say("alice", "task Call the regulator @bob in 30m", room)
    assert reply.ok and "Added item 15." in reply.message.plain()
    added = item(chat, 15)
    assert (added.title, added.owner_person, added.owner_role, added.state) == ("Call the regulator", "bob", None, "open")
    assert added.due_at == clock.now() + timedelta(minutes=30)
    [nudge] = overdue_nudges(chat, 15)
    assert (nudge.state, nudge.target, nudge.due_at) == ("pending", "person:bob", clock.now() + timedelta(minutes=30))
    assert any("New checklist item by Alice Chen:" in post and "Call the regulator · Bob Li" in post for post in chat.posts())


@pytest.mark.parametrize(
    ("due", "delta"), [("45s", timedelta(seconds=45)), ("2h", timedelta(hours=2)), ("3d", timedelta(days=3)), ("1W", timedelta(weeks=1))]
)
def test_task_due_times_in_each_unit(chat, clock, room, due, delta):
    assert chat.say("dave", f"task Check the hashtag volume in {due}", room).ok
    assert item(chat, 15).due_at == clock.now() + delta


def test_task_owned_by_a_role_goes_to_its_holder(chat, room):
    assert chat.say("alice", "task Draft the regulator letter @legal", room).ok
    added = item(chat, 15)
    assert (added.title, added.owner_role, added.owner_person, added.due_at) == ("Draft the regulator letter", "legal", "bob", None)
    assert overdue_nudges(chat, 15) == []  # no due time, nothing to nudge


def test_task_owned_by_an_unfilled_role_waits_for_its_holder(chat, room):
    assert chat.say("alice", "task Approve the recall budget @exec in 2h", room).ok
    added = item(chat, 15)
    assert (added.owner_role, added.owner_person) == ("exec", None)
    assert [n.target for n in overdue_nudges(chat, 15)] == ["role:exec"]
    assert chat.say("alice", "assign exec @erin", room).ok
    assert item(chat, 15).owner_person == "erin"


def test_task_without_an_owner_is_nudged_to_the_commander(chat, clock, room):
    assert chat.say("dave", "task Check the hashtag volume in 15m", room).ok
    [nudge] = overdue_nudges(chat, 15)
    assert (nudge.target, nudge.due_at) == ("role:commander", clock.now() + timedelta(minutes=15))


# ---- tasks: open, mine, all


def numbers_in(listing: str) -> list[int]:
    """The item numbers in a rendered checklist (lines like '☐ 4 Title · Owner')."""
    return [int(line.split()[1]) for line in listing.splitlines() if line[:1] in "☐☑⤼"]


def test_tasks_mine_shows_only_my_open_items(chat, room):
    assert chat.say("alice", "task Sign the NDA @bob", room).ok  # 15
    assert chat.say("alice", "task Call the lab @dave", room).ok  # 16
    assert chat.say("bob", "done 5", room).ok
    mine = chat.say("bob", "tasks mine", room).message.plain()
    assert numbers_in(mine) == [9, 15]
    assert "Call the lab" not in mine
    assert 16 in numbers_in(chat.say("dave", "tasks mine", room).message.plain())


def test_tasks_mine_includes_unclaimed_items_of_a_role_i_hold(chat, room):
    assert chat.say("alice", "assign exec @bob", room).ok  # item 11 follows the exec role to bob
    assert chat.say("alice", "task Approve the budget @exec", room).ok  # 15, owner bob through exec
    assert numbers_in(chat.say("bob", "tasks mine", room).message.plain()) == [5, 9, 11, 15]


def test_tasks_mine_with_nothing_to_do_says_so(chat, room):
    assert chat.say("erin", "done 7", room).ok and chat.say("erin", "done 10", room).ok
    reply = chat.say("erin", "tasks mine", room)
    assert reply.ok and reply.message.plain() == "Nothing here: no matching checklist items."


def test_tasks_shows_open_items_and_tasks_all_includes_finished_ones(chat, room):
    assert chat.say("dave", "done 1", room).ok
    assert chat.say("alice", "skip 2 Call held yesterday", room).ok
    open_items = chat.say("erin", "tasks", room).message.plain()
    assert numbers_in(open_items) == list(range(3, 15))
    everything = chat.say("erin", "tasks all", room).message.plain()
    assert numbers_in(everything) == list(range(1, 15))
    assert "☑ 1 Collect every report" in everything
    assert "⤼ 2 " in everything and "— skipped: Call held yesterday" in everything


# ---- nudges follow the item's state


def test_done_clears_only_that_items_overdue_nudge(chat, room):
    assert [n.state for n in overdue_nudges(chat, 1)] == ["pending"]
    assert chat.say("dave", "done 1", room).ok
    assert [n.state for n in overdue_nudges(chat, 1)] == ["cleared"]
    assert [n.state for n in overdue_nudges(chat, 2)] == ["pending"]


def test_skip_clears_the_overdue_nudge_too(chat, room):
    assert chat.say("dave", "skip 1 Not needed", room).ok
    assert [n.state for n in overdue_nudges(chat, 1)] == ["cleared"]


def test_undo_before_the_due_time_reschedules_the_nudge_for_the_due_time(chat, clock, room):
    due = item(chat, 1).due_at
    assert chat.say("dave", "done 1", room).ok
    clock.advance(timedelta(minutes=5))
    assert chat.say("dave", "undo 1", room).ok
    cleared, again = overdue_nudges(chat, 1)
    assert cleared.state == "cleared"
    assert (again.state, again.due_at, again.target) == ("pending", due, "role:monitor")


def test_undo_after_the_due_time_makes_the_nudge_due_now(chat, clock, room):
    assert chat.say("dave", "done 1", room).ok
    clock.advance(timedelta(hours=1))  # item 1 was due 15 minutes after declaring
    assert chat.say("dave", "undo 1", room).ok
    assert [(n.state, n.due_at) for n in overdue_nudges(chat, 1)][-1] == ("pending", clock.now())
    assert "overdue since" in chat.say("dave", "tasks mine", room).message.plain()


def test_undo_of_a_task_without_a_due_time_schedules_nothing(chat, room):
    assert chat.say("alice", "task Sign the NDA @bob", room).ok
    assert chat.say("bob", "done 15", room).ok
    assert chat.say("bob", "undo 15", room).ok
    assert overdue_nudges(chat, 15) == []
