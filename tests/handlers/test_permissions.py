"""Who may do what (PRODUCT.md §3): each verb tried by someone allowed and someone refused.

The incident under test is the default one: product-quality sev2 declared by alice, so
commander=alice, comms=alice, spokesperson=carol, legal=bob, monitor=dave, scribe=dave,
liaison=erin. `frank` is added to the team with no roles, so he is a team member who
takes no part in the incident. `zed` is not in the team model at all.
"""

import pytest
from sqlmodel import select

from bot.app import sync_handles
from config.model import Person
from handlers.core.ports import Command, RoomRef, UserRef
from handlers.router import dispatch
from storage.db import session
from storage.models import Incident, Nudge, RoleAssignment
from tests.conftest import Chat

COMMANDER_ONLY = "Only Incident commander may use {verb} in incident #1."
COMMANDER_OR_COMMS = "Only Incident commander, Communications lead may use {verb} in incident #1."
PARTICIPANTS_ONLY = "Only participants of the incident (role holders and the declarer) may use {verb} in incident #1."
JOIN = "You are not in the team model yet. Ask an admin to add your {platform} id {id} to onevoice.yaml."


def with_people(config, add=(), drop_role=None):
    """The config with extra people (no roles) and, optionally, one role taken from everybody."""
    people = {}
    for key, person in config.team.people.items():
        roles = [r for r in person.roles if r != drop_role]
        people[key] = person.model_copy(update={"roles": roles})
    for key, name in add:
        people[key] = Person(key=key, name=name)
    return config.model_copy(update={"team": config.team.model_copy(update={"people": people})})


@pytest.fixture
def team_chat(engine, config, clock) -> Chat:
    """The starter team plus frank, who holds no role anywhere."""
    return Chat(engine, with_people(config, add=[("frank", "Frank Wu")]), clock)


@pytest.fixture
def room(team_chat) -> str:
    """The room of incident #1, with the roles the brief describes (checked, not assumed)."""
    incident_id, room = team_chat.declare()
    assert incident_id == 1
    roles = team_chat.say("frank", "roles", room).message.plain()
    for line in [
        "Incident commander: Alice Chen",
        "Communications lead: Alice Chen",
        "Spokesperson: Carol Wang",
        "Legal counsel: Bob Li",
        "Monitoring lead: Dave Zhang",
        "Scribe: Dave Zhang",
        "External liaison: Erin Liu",
    ]:
        assert line in roles
    assert "Frank" not in roles
    return room


def prepare(chat: Chat, room: str, setup: list[tuple[str, str]]) -> None:
    for who, line in setup:
        reply = chat.say(who, line, room)
        assert reply.ok, (line, reply.message.plain())


# (command, setup run first, an allowed actor, a refused actor, who may (refusal), usage line)
MATRIX = [
    pytest.param("assign legal @erin", [], "alice", "bob", COMMANDER_ONLY, "/crisis assign <role> @person", id="assign"),
    pytest.param(
        "role legal @erin",
        [],
        "alice",
        "frank",
        COMMANDER_ONLY.format(verb="assign"),
        "/crisis assign <role> @person",
        id="assign-alias-role",
    ),
    pytest.param("sev 1", [], "alice", "dave", COMMANDER_ONLY, "/crisis sev <1-4>", id="sev"),
    pytest.param(
        "phase assessing", [], "alice", "carol", COMMANDER_ONLY, "/crisis phase <detected|assessing|responding|recovering>", id="phase"
    ),
    pytest.param("resolve Batch recalled", [], "alice", "erin", COMMANDER_ONLY, "/crisis resolve [summary]", id="resolve"),
    pytest.param("reopen", [("alice", "resolve")], "alice", "bob", COMMANDER_ONLY, "/crisis reopen", id="reopen"),
    pytest.param(
        "close --force The open items move to the recall plan",
        [("alice", "resolve"), ("alice", "lesson + Stop-sale within the hour")],
        "alice",
        "dave",
        COMMANDER_ONLY,
        "/crisis close [--force <reason>]",
        id="close",
    ),
    pytest.param(
        "close --force Reviewed offline",
        [("alice", "resolve")],
        "alice",
        "frank",
        COMMANDER_ONLY.format(verb="close"),
        "/crisis close [--force <reason>]",
        id="close-force",
    ),
    pytest.param(
        "update Lot 2231 narrowed down", [], "alice", "bob", COMMANDER_OR_COMMS, "/crisis update <text>", id="update-by-commander"
    ),
    pytest.param(
        "update Lot 2231 narrowed down",
        [("alice", "handoff comms @carol")],
        "carol",
        "dave",
        COMMANDER_OR_COMMS,
        "/crisis update <text>",
        id="update-by-comms",
    ),
    pytest.param("note Lab results expected at 14:00", [], "bob", "frank", PARTICIPANTS_ONLY, "/crisis note <text>", id="note"),
    pytest.param(
        "task Call the regulator", [], "dave", "frank", PARTICIPANTS_ONLY, "/crisis task <text> [@person|@role] [in 30m]", id="task"
    ),
    pytest.param("done 1", [], "dave", "frank", PARTICIPANTS_ONLY, "/crisis done <n>", id="done"),
    pytest.param("skip 1 Covered by item 2", [], "erin", "frank", PARTICIPANTS_ONLY, "/crisis skip <n> <reason>", id="skip"),
    pytest.param("undo 1", [("dave", "done 1")], "carol", "frank", PARTICIPANTS_ONLY, "/crisis undo <n>", id="undo"),
]


@pytest.mark.parametrize(("line", "setup", "allowed", "refused", "who", "usage"), MATRIX)
def test_an_allowed_actor_may_use_the_verb(team_chat, room, line, setup, allowed, refused, who, usage):
    prepare(team_chat, room, setup)
    reply = team_chat.say(allowed, line, room)
    assert reply.ok, reply.message.plain()


@pytest.mark.parametrize(("line", "setup", "allowed", "refused", "who", "usage"), MATRIX)
def test_a_refused_actor_is_told_who_may_and_how_and_nothing_changes(team_chat, room, line, setup, allowed, refused, who, usage):
    prepare(team_chat, room, setup)
    before = team_chat.snapshot()
    reply = team_chat.say(refused, line, room)
    answer = reply.message.plain()
    assert reply.ok is False
    assert who.format(verb=line.split()[0]) in answer
    assert f"Usage: {usage}" in answer
    assert team_chat.snapshot() == before


@pytest.mark.parametrize(("line", "refused"), [("sev 1", "dave"), ("assign legal @erin", "frank"), ("close", "bob")])
def test_a_commander_only_refusal_names_the_commander_to_ask(team_chat, room, line, refused):
    answer = team_chat.say(refused, line, room).message.plain()
    assert "Ask Alice Chen." in answer


def test_an_update_refusal_names_each_person_to_ask_once(team_chat, room):
    """Was: alice holds commander and comms, and was named twice: 'Ask Alice Chen, Alice Chen.'"""
    answer = team_chat.say("bob", "update Lot narrowed down", room).message.plain()
    assert "Ask Alice Chen." in answer
    assert answer.count("Alice Chen") == 1


@pytest.mark.parametrize("line", ["note Lab results expected", "task Call the regulator", "done 1"])
def test_a_participant_only_refusal_says_whom_to_ask(team_chat, room, line):
    """Was: 'Nobody holds that role yet; the commander can assign it.' although every role was held."""
    answer = team_chat.say("frank", line, room).message.plain()
    assert "Nobody holds" not in answer
    assert "Ask the commander (Alice Chen) to give you a role." in answer


# ---- handoff: the commander, or the holder of that role


@pytest.mark.parametrize("actor", ["bob", "alice"], ids=["holder", "commander"])
def test_handoff_is_allowed_to_the_holder_and_to_the_commander(team_chat, room, actor):
    reply = team_chat.say(actor, "handoff legal @erin", room)
    assert reply.ok, reply.message.plain()
    assert "Erin Liu is now Legal counsel in #1." in reply.message.plain()


@pytest.mark.parametrize("actor", ["dave", "frank"], ids=["participant-not-holder", "not-a-participant"])
def test_handoff_is_refused_to_anyone_else_with_who_may_and_the_usage(team_chat, room, actor):
    """Was: no usage line for dave, and frank was told that 'participants' may hand off (PRODUCT.md §3: commander or holder)."""
    before = team_chat.snapshot()
    reply = team_chat.say(actor, "handoff legal @erin", room)
    answer = reply.message.plain()
    assert reply.ok is False
    assert "Only the commander or the holder of Legal counsel (Bob Li) may hand it off." in answer
    assert "Usage: /crisis handoff <role> @person" in answer
    assert team_chat.snapshot() == before


def test_help_says_who_may_hand_off(team_chat):
    assert "Who may: the commander, or the holder of the role" in team_chat.say("frank", "help handoff").message.plain()


# ---- ack: only someone holding a role not yet acknowledged


def test_ack_is_for_a_holder_with_an_unacknowledged_role(team_chat, room):
    reply = team_chat.say("bob", "ack", room)
    assert reply.ok and "Bob Li accepted: Legal counsel." in reply.message.plain()


@pytest.mark.parametrize("setup", [[], [("bob", "ack")]], ids=["holds-no-role", "already-acknowledged"])
def test_ack_is_refused_without_a_role_waiting_and_nothing_changes(team_chat, room, setup):
    prepare(team_chat, room, setup)
    actor = "bob" if setup else "frank"
    before = team_chat.snapshot()
    reply = team_chat.say(actor, "ack", room)
    assert reply.ok is False
    assert "You have no role waiting to be accepted in #1." in reply.message.plain()
    assert team_chat.snapshot() == before


# ---- anyone on the team: status, list, roles, tasks, help, declare

ANYONE_VERBS = [
    "status",
    "card",
    "list",
    "roles",
    "tasks",
    "tasks all",
    "tasks mine",
    "help",
    "help assign",
    "declare outage sev3 Login errors",
    "review",
    "drill attack",
]


@pytest.mark.parametrize("line", ANYONE_VERBS)
def test_any_team_member_may_use_the_open_verbs(team_chat, room, line):
    reply = team_chat.say("frank", line, room)
    assert reply.ok, reply.message.plain()


@pytest.mark.parametrize("line", ANYONE_VERBS + ["ack", "note hello", "sev 1", "assign legal @erin", "handoff legal @erin", "update hi"])
def test_someone_outside_the_team_model_is_told_how_to_join_and_nothing_changes(team_chat, room, line):
    before = team_chat.snapshot()
    reply = team_chat.say("zed", line, room)
    assert reply.ok is False
    assert JOIN.format(platform="console", id="zed") in reply.message.plain()
    assert team_chat.snapshot() == before


def test_a_slack_user_outside_the_team_model_is_told_how_to_join(team_chat, room):
    sync_handles(team_chat.engine, team_chat.config, "slack")

    def say_on_slack(user_id: str, line: str):
        with session(team_chat.engine) as db:
            return dispatch(db, team_chat.deps, Command(UserRef("slack", user_id), line, RoomRef("slack", "C0LOBBY")))

    assert say_on_slack("U0BOB", "list").ok  # a known Slack id is a team member
    before = team_chat.snapshot()
    reply = say_on_slack("U0STRANGER", "declare outage sev3 Login errors")
    assert reply.ok is False
    assert JOIN.format(platform="slack", id="U0STRANGER") in reply.message.plain()
    assert team_chat.snapshot() == before


@pytest.mark.parametrize(
    ("verb", "who"),
    [
        ("assign", "Incident commander"),
        ("update", "Incident commander, Communications lead"),
        ("note", "participants of the incident"),
        ("status", "anyone on the team"),
    ],
)
def test_help_tells_who_may_use_a_verb(team_chat, verb, who):
    assert f"Who may: {who}" in team_chat.say("frank", f"help {verb}").message.plain()


# ---- participants: role holders, and the declarer even without a role


def test_the_declarer_without_a_role_is_a_participant(chat):
    incident_id, room = chat.declare("erin", "declare outage sev4 Login slow")  # roles: alice commander, carol comms
    assert "Erin" not in chat.say("erin", "roles", room).message.plain()
    assert chat.say("erin", "note Status page checked", room).ok
    assert chat.say("erin", "task Check the CDN", room).ok
    refusal = chat.say("bob", "note Status page checked", room)
    assert refusal.ok is False and PARTICIPANTS_ONLY.replace("#1", f"#{incident_id}").format(verb="note") in refusal.message.plain()


# ---- the declarer stands in as commander while nobody is commander


@pytest.fixture
def leaderless(engine, config, clock):
    """A team where nobody is on the commander rota: the declarer (erin) stands in."""
    chat = Chat(engine, with_people(config, drop_role="commander"), clock)
    incident_id, room = chat.declare("erin", "declare outage sev4 Nobody leads")
    assert "Incident commander: unfilled" in chat.say("erin", "roles", room).message.plain()
    with session(engine) as db:
        assert db.exec(select(Nudge).where(Nudge.kind == "role_unfilled", Nudge.subject == "commander")).one().state == "pending"
    return chat, room


@pytest.mark.parametrize("line", ["sev 3", "phase assessing", "assign legal @bob", "update Investigating", "resolve"])
def test_the_declarer_stands_in_as_commander_while_none_is_assigned(leaderless, line):
    chat, room = leaderless
    reply = chat.say("erin", line, room)
    assert reply.ok, reply.message.plain()


@pytest.mark.parametrize("line", ["sev 3", "phase assessing", "assign legal @bob", "resolve"])
def test_others_may_not_stand_in_as_commander(leaderless, line):
    chat, room = leaderless
    before = chat.snapshot()
    reply = chat.say("alice", line, room)  # alice holds comms, but did not declare
    assert reply.ok is False
    assert COMMANDER_ONLY.format(verb=line.split()[0]) in reply.message.plain()
    assert chat.snapshot() == before


def test_the_stand_in_ends_once_a_commander_is_assigned(leaderless):
    chat, room = leaderless
    assert chat.say("erin", "assign commander @dave", room).ok
    with session(chat.engine) as db:
        assert db.exec(select(Nudge).where(Nudge.kind == "role_unfilled", Nudge.subject == "commander")).one().state == "cleared"
        holder = db.exec(select(RoleAssignment).where(RoleAssignment.role == "commander", RoleAssignment.ended_at.is_(None))).one()
    assert holder.person == "dave"
    refusal = chat.say("erin", "sev 3", room)
    assert refusal.ok is False and "Ask Dave Zhang." in refusal.message.plain()
    assert chat.say("dave", "sev 3", room).ok
    with session(chat.engine) as db:
        assert db.get(Incident, 1).severity == "sev3"


def test_a_refusal_during_the_stand_in_names_the_declarer(leaderless):
    """Was: 'Nobody holds that role yet; the commander can assign it.' while erin stood in as commander."""
    chat, room = leaderless
    answer = chat.say("alice", "sev 3", room).message.plain()
    assert "Ask Erin Liu." in answer
