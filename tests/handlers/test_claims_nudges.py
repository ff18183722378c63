"""The deadline of a wide false claim (PRODUCT.md §10) on the fake clock: who hears, when, the ladder, what stops it.

Incident #1 is product-quality at the severity named, everybody acknowledged: commander=alice, comms=alice,
spokesperson=carol, legal=bob, monitor=dave, exec=bob.
"""

from tests.handlers.nudge_timeline import buttons, declare, messages_to
from tests.handlers.test_claims import REBUTTAL, approve

ABOUT = "claim C1"


def test_a_wide_false_claim_unanswered_nudges_comms_and_the_commander_then_exec(chat, clock):
    room, t = declare(chat, clock, "sev1")
    t.at(2)
    assert chat.say("dave", "claim PB-20 power banks explode reach 12000", room).ok
    t.at(5)
    assert chat.say("bob", "verify c1 false", room).ok
    assert t.fire(31, ABOUT) == []  # sev1 allows 30 min from the claim (minute 2)
    heard = t.fire(32, ABOUT)
    assert heard == [("alice", heard[0][1])]
    assert "claim C1 “PB-20 power banks explode” (reach 12,000) has no published answer" in heard[0][1]
    assert "/crisis rebut c1" in heard[0][1]
    assert buttons(chat, "alice", ABOUT)[0] == "#1 rebut c1"  # then the snoozes
    assert t.recipients(90, ABOUT) == [(47, "alice"), (62, "bob"), (77, "bob")]
    (to_exec, *_again) = messages_to(chat, "bob", "claim C1")
    assert "claim C1 “PB-20 power banks explode” is spreading unanswered" in to_exec.plain()


def test_the_deadline_follows_the_severity_and_counts_from_the_claim(chat, clock):
    room, t = declare(chat, clock, "sev2")
    assert chat.say("dave", "claim PB-20 power banks explode reach 12000", room).ok
    t.at(50)
    assert chat.say("dave", "verify c1 partly", room).ok
    assert t.recipients(55, ABOUT) == []
    assert [to for to, _text in t.fire(60, ABOUT)] == ["alice"]  # sev2: 1 h from the claim


def test_a_verification_after_the_deadline_nudges_at_once(chat, clock):
    room, t = declare(chat, clock, "sev1")
    assert chat.say("dave", "claim PB-20 power banks explode reach 12000", room).ok
    t.at(45)
    assert chat.say("bob", "verify c1 false", room).ok
    assert [to for to, _text in t.fire(45, ABOUT)] == ["alice"]


def test_a_narrow_or_true_claim_needs_no_deadline(chat, clock):
    room, t = declare(chat, clock, "sev1")
    assert chat.say("dave", "claim The CEO resigned reach 999", room).ok
    assert chat.say("dave", "claim PB-20 power banks explode reach 5000", room).ok
    assert chat.say("bob", "verify c1 false", room).ok
    assert chat.say("bob", "verify c2 unknown", room).ok
    assert t.recipients(120, "claim C") == []


def test_a_claim_verified_true_after_false_stops_its_nudge(chat, clock):
    room, t = declare(chat, clock, "sev1")
    assert chat.say("dave", "claim PB-20 power banks explode reach 12000", room).ok
    assert chat.say("bob", "verify c1 false", room).ok
    assert [to for to, _text in t.fire(30, ABOUT)] == ["alice"]
    assert chat.say("bob", "verify c1 true it did happen once", room).ok
    assert t.recipients(120, ABOUT) == []


def test_a_rebuttal_not_yet_published_keeps_the_nudge_and_publishing_it_stops_it(chat, clock):
    room, t = declare(chat, clock, "sev1")
    assert chat.say("dave", "claim PB-20 power banks explode reach 12000", room).ok
    assert chat.say("bob", "verify c1 false", room).ok
    t.at(10)
    approve(chat, room)
    assert chat.say("alice", "rebut c1", room).ok
    assert [to for to, _text in t.fire(30, ABOUT)] == ["alice"]  # answered, but nobody outside has read it yet
    t.at(35)
    assert chat.say("carol", "published weibo https://weibo.example/official/2", room).ok
    assert t.recipients(120, ABOUT) == []
    assert "0 false and unanswered" in chat.say("erin", "claims", room).message.plain()


def test_rebutting_with_a_version_already_published_stops_the_nudge_at_once(chat, clock):
    room, t = declare(chat, clock, "sev1")
    approve(chat, room)
    assert chat.say("carol", "published weibo https://weibo.example/official/2", room).ok
    assert chat.say("dave", "claim PB-20 power banks explode reach 12000", room).ok
    assert chat.say("bob", "verify c1 false", room).ok
    reply = chat.say("carol", "rebut c1", room).message.plain()
    assert "answered with v1, published on weibo https://weibo.example/official/2" in reply
    assert t.recipients(120, ABOUT) == []


def test_the_nudge_button_runs_rebut_and_that_clears_it_once_published(chat, clock):
    room, t = declare(chat, clock, "sev1")
    approve(chat, room, REBUTTAL)
    assert chat.say("carol", "published weibo https://weibo.example/official/2", room).ok
    t.at(1)
    assert chat.say("dave", "claim PB-20 power banks explode reach 12000", room).ok
    assert chat.say("bob", "verify c1 false", room).ok
    assert [to for to, _text in t.fire(31, ABOUT)] == ["alice"]
    command = buttons(chat, "alice", ABOUT)[0]
    assert command == "#1 rebut c1"
    assert chat.say("alice", command, "lobby").ok  # pressed in a DM: the button names the incident
    assert t.recipients(120, ABOUT) == []


def test_resolving_stops_the_nudge(chat, clock):
    room, t = declare(chat, clock, "sev1")
    assert chat.say("dave", "claim PB-20 power banks explode reach 12000", room).ok
    assert chat.say("bob", "verify c1 false", room).ok
    assert chat.say("alice", "resolve contained", room).ok
    assert t.recipients(120, ABOUT) == []


def test_the_team_sets_its_own_alert_reach_and_deadlines(engine, config, clock):
    import pytest

    from config.errors import ConfigError
    from config.load import STARTER, parse_config
    from tests.conftest import Chat

    starter = STARTER.read_text(encoding="utf-8")
    claims = parse_config(starter + "claims: {reach_alert: 100, answer_within: {sev1: 10m}}\n").claims
    with pytest.raises(ConfigError):
        parse_config(starter + "claims: {reach_alert: -1}\n")
    chat = Chat(engine, config.model_copy(update={"claims": claims}), clock)
    room, t = declare(chat, clock, "sev1")
    assert chat.say("dave", "claim PB-20 power banks explode reach 150", room).ok
    assert chat.say("bob", "verify c1 false", room).ok
    assert t.fire(9, ABOUT) == []
    assert [to for to, _text in t.fire(10, ABOUT)] == ["alice"]
    assert claims.within("sev2").total_seconds() == 3600  # a severity left out keeps its default


def test_a_new_severity_moves_the_deadline_and_reopening_brings_the_nudge_back(chat, clock):
    room, t = declare(chat, clock, "sev2")
    assert chat.say("dave", "claim PB-20 power banks explode reach 12000", room).ok
    assert chat.say("bob", "verify c1 false", room).ok
    t.at(10)
    assert chat.say("alice", "sev 1", room).ok
    assert t.fire(29, ABOUT) == []
    assert [to for to, _text in t.fire(30, ABOUT)] == ["alice"]  # sev1: 30 min from the claim, not sev2's hour
    assert chat.say("alice", "resolve contained", room).ok
    assert t.recipients(60, ABOUT) == []
    t.at(61)
    assert chat.say("alice", "reopen", room).ok
    assert [to for to, _text in t.fire(61, ABOUT)] == ["alice"]  # still unanswered, and long past its deadline
