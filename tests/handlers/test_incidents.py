"""Declaring and running an incident, asserted on state and effects."""

from datetime import timedelta

from sqlmodel import select

from handlers.core.effects import DM, Invite, OpenRoom, Post, RefreshCard
from storage.db import session
from storage.models import ChecklistItem, Incident, Nudge, RoleAssignment, TimelineEvent


def test_declare_opens_room_fills_roles_on_call_and_loads_checklist(chat, config):
    incident_id, room = chat.declare()
    assert room.startswith("crisis-20260302-battery-overheating")
    with session(chat.engine) as db:
        incident = db.get(Incident, incident_id)
        holders = {a.role: a.person for a in db.exec(select(RoleAssignment))}
        items = db.exec(select(ChecklistItem).where(ChecklistItem.incident_id == incident_id)).all()
    assert (incident.severity, incident.phase, incident.playbook) == ("sev2", "detected", "product-quality")
    # on-call order from the team model, spreading roles over free people first
    assert holders["commander"] == "alice" and holders["legal"] == "bob" and holders["spokesperson"] == "carol"
    assert set(holders) == set(config.required_roles(config.playbooks["product-quality"], "sev2"))
    assert len(items) == len(config.playbooks["product-quality"].checklist)
    kinds = [type(effect) for effect in chat.effects()]
    assert kinds[0] == OpenRoom
    assert Invite in kinds and kinds.count(DM) == len(holders)


def test_declare_schedules_nudges_for_acks_tasks_and_the_first_statement(chat):
    incident_id, _ = chat.declare()
    with session(chat.engine) as db:
        kinds = {n.kind for n in db.exec(select(Nudge).where(Nudge.incident_id == incident_id))}
    assert {"role_ack", "task_overdue", "first_statement", "update_due"} <= kinds


def test_card_is_refreshed_on_every_change_it_shows(chat):
    incident_id, room = chat.declare()
    for who, line in [("bob", "ack"), ("alice", "done 1"), ("alice", "phase assessing"), ("alice", "sev 1")]:
        before = len(chat.effects(RefreshCard))
        assert chat.say(who, line, room).ok
        after = len(chat.effects(RefreshCard))
        assert after == before + 1, line


def test_status_shows_roles_checklist_progress_and_deadlines(chat):
    incident_id, room = chat.declare()
    chat.say("bob", "ack", room)
    chat.say("alice", "done 1", room)
    card = chat.say("dave", "status", room).message.plain()
    assert "Battery overheating" in card and "sev2" in card
    assert "Legal counsel: Bob Li ✓" in card
    assert "Spokesperson: Carol Wang (not accepted yet)" in card
    assert "Checklist: 1/14 done" in card
    assert "first statement due 11:00 Beijing time, 2 Mar" in card  # Asia/Shanghai, 2h after a 01:00 UTC declaration


def test_sev_escalation_fills_new_roles_and_moves_the_update_clock(chat, clock):
    incident_id, room = chat.declare()
    clock.advance(timedelta(minutes=5))
    assert chat.say("alice", "sev 1", room).ok
    with session(chat.engine) as db:
        incident = db.get(Incident, incident_id)
        roles = {a.role for a in db.exec(select(RoleAssignment).where(RoleAssignment.ended_at.is_(None)))}
    assert "exec" in roles
    assert incident.next_update_at == incident.declared_at + timedelta(minutes=30)


def test_update_restarts_the_cadence_and_reaches_stakeholders(engine, config, clock):
    from config.model import RoomHandles
    from tests.conftest import Chat

    config = config.model_copy(update={"stakeholder_rooms": [RoomHandles(console="exec-room")]})
    chat = Chat(engine, config, clock)
    incident_id, room = chat.declare()
    clock.advance(timedelta(minutes=40))
    assert chat.say("alice", "update Lot narrowed down", room).ok
    with session(engine) as db:
        incident = db.get(Incident, incident_id)
        pending = db.exec(select(Nudge).where(Nudge.kind == "update_due", Nudge.state == "pending")).all()
    assert incident.next_update_at == clock.now() + timedelta(hours=1)
    assert [n.due_at for n in pending] == [incident.next_update_at]
    assert any(post.to == "exec-room" for post in chat.effects(Post))


def test_phases_run_forward_and_close_needs_resolve(chat):
    incident_id, room = chat.declare()
    assert not chat.say("alice", "close", room).ok
    assert chat.say("alice", "phase responding", room).ok
    assert not chat.say("alice", "phase responding", room).ok
    assert not chat.say("alice", "phase resolved", room).ok
    assert chat.say("alice", "resolve All clear", room).ok
    assert not chat.say("alice", "phase assessing", room).ok
    assert chat.say("alice", "reopen", room).ok
    assert chat.say("alice", "resolve", room).ok
    refused = chat.say("alice", "close", room)
    assert not refused.ok and "The review of #1 is not complete: no lesson yet." in refused.message.plain()
    assert chat.say("dave", "lesson + The monitor caught it within the hour", room).ok
    assert chat.say("alice", "close --force The open items move to the recall plan", room).ok
    with session(chat.engine) as db:
        incident = db.get(Incident, incident_id)
        phases = [e.text for e in db.exec(select(TimelineEvent).where(TimelineEvent.kind == "phase").order_by(TimelineEvent.id))]
    assert incident.phase == "closed" and incident.closed_at is not None
    assert phases == ["responding", "resolved", "responding", "resolved", "closed"]
    refusal = chat.say("alice", "note too late", room)
    assert not refusal.ok and "closed" in refusal.message.plain()


def test_resolve_stops_live_nudges_and_schedules_the_review(chat):
    incident_id, room = chat.declare()
    chat.say("alice", "resolve", room)
    with session(chat.engine) as db:
        pending = {n.kind for n in db.exec(select(Nudge).where(Nudge.state == "pending"))}
    assert pending == {"review_due"}


def test_close_force_needs_a_reason(chat):
    incident_id, room = chat.declare()
    chat.say("alice", "resolve", room)
    assert not chat.say("alice", "close --force", room).ok
    assert chat.say("alice", "close --force Review held offline", room).ok


def test_commands_outside_a_room_name_the_incident(chat):
    incident_id, _ = chat.declare()
    refusal = chat.say("dave", "status")
    assert not refusal.ok and f"/crisis #{incident_id} status" in refusal.message.plain()
    assert chat.say("dave", f"#{incident_id} status").ok
    assert "There is no incident #99" in chat.say("dave", "#99 status").message.plain()


def test_list_shows_open_incidents_most_severe_first(chat):
    chat.declare(line="declare outage sev3 Login errors")
    chat.declare(line="declare emergency sev1 Warehouse fire")
    listing = chat.say("erin", "list").message.plain()
    assert listing.index("Warehouse fire") < listing.index("Login errors")


def test_a_redelivered_command_changes_nothing_twice(chat):
    first = chat.say("alice", "declare attack sev2 Fake recall rumour", event_id="slack:abc")
    again = chat.say("alice", "declare attack sev2 Fake recall rumour", event_id="slack:abc")
    assert again.message.plain() == first.message.plain()
    with session(chat.engine) as db:
        assert len(db.exec(select(Incident)).all()) == 1


def test_the_answer_to_a_command_typed_in_its_room_is_the_room_post(chat):
    incident_id, room = chat.declare()
    assert chat.say("alice", "phase assessing", room).echoed
    assert not chat.say("alice", f"#{incident_id} phase responding", "lobby").echoed  # typed elsewhere: answered there


def test_same_title_same_day_gets_its_own_room(chat):
    first_id, first_room = chat.declare(line="declare outage sev3 DB down")
    second_id, second_room = chat.declare(line="declare outage sev3 DB down")
    assert first_room != second_room and second_room.endswith(f"-{second_id}")
    assert f"#{second_id} DB down" in chat.say("alice", "status", second_room).message.plain()


def test_sev_moves_the_first_statement_deadline(chat, clock, config):
    incident_id, room = chat.declare(line="declare outage sev3 Login errors")
    deadline = config.timing(config.playbooks["outage"], "sev1").first_statement  # 30 min: outage overrides sev1
    chat.say("alice", "sev 1", room)
    with session(chat.engine) as db:
        due = sorted(n.due_at for n in db.exec(select(Nudge).where(Nudge.kind == "first_statement", Nudge.state == "pending")))
    declared = clock.now()
    assert due == [declared + deadline - timedelta(minutes=15), declared + deadline]


def test_reopen_brings_back_overdue_and_ack_reminders(chat):
    incident_id, room = chat.declare()
    chat.say("alice", "resolve", room)
    chat.say("alice", "reopen", room)
    with session(chat.engine) as db:
        pending = {n.kind for n in db.exec(select(Nudge).where(Nudge.state == "pending"))}
    assert {"task_overdue", "role_ack", "first_statement", "update_due"} <= pending and "review_due" not in pending


def test_a_timezone_typo_is_a_config_error():
    import pytest

    from config.load import ConfigError, parse_config

    with pytest.raises(ConfigError, match="unknown timezone 'Asia/Shangai'"):
        parse_config("timezone: Asia/Shangai\n")
