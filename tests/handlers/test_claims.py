"""The claims (rumour) log through the console (PRODUCT.md §10): claim, claims, verify, rebut, and what they change.

Incident #1 is product-quality sev2 declared by alice: commander=alice, comms=alice, spokesperson=carol,
legal=bob, monitor=dave, liaison=erin. Approvers at sev2 are legal and commander.
"""

import pytest

from tests.conftest import Chat

REBUTTAL = "PB-20 power banks do not explode: no battery in the recalled batch has caught fire. Next update at 11:00."


def approve(chat: Chat, room: str, text: str = REBUTTAL, kind: str = "rebuttal") -> None:
    assert chat.say("carol", f"draft {kind} {text}", room).ok
    assert chat.say("bob", "approve", room).ok
    assert chat.say("alice", "approve", room).ok


def test_a_claim_is_logged_with_its_link_and_reach_and_listed(chat, room):
    reply = chat.say("dave", "claim PB-20 power banks explode when charged overnight https://weibo.example/p/1 reach 12,000", room)
    assert reply.ok, reply.message.plain()
    plain = reply.message.plain()
    assert "C1 logged by Dave Zhang: “PB-20 power banks explode when charged overnight”" in plain
    assert "https://weibo.example/p/1" in plain and "Reach 12,000." in plain
    assert chat.say("carol", "claim Battery fires in Shenzhen reach 3k", room).ok
    listing = chat.say("erin", "claims", room).message.plain()
    assert "Claims of #1: 2 open, 0 false and unanswered" in listing
    assert "C1 [unverified] “PB-20 power banks explode when charged overnight” — reach 12,000; no answer yet" in listing
    assert "C2 [unverified] “Battery fires in Shenzhen” — reach 3,000; no answer yet" in listing


def test_the_grammar_keeps_free_text_whole(chat, room):
    assert chat.say("dave", "claim they say reach 5 people out of reach of the recall", room).ok
    assert chat.say("dave", "claim see https://a.example/x and more", room).ok
    assert chat.say("dave", "claim nobody can reach them", room).ok
    listing = chat.say("dave", "claims", room).message.plain()
    assert "C1 [unverified] “they say reach 5 people out of reach of the recall” — reach 0;" in listing
    assert "C2 [unverified] “see https://a.example/x and more” — reach 0;" in listing
    assert "C3 [unverified] “nobody can reach them” — reach 0;" in listing


@pytest.mark.parametrize(
    "line, problem",
    [
        ("claim", "Say what the claim is."),
        ("claim https://a.example/x", "Say what the claim is."),
        ("claim rumour reach -5", "“-5” is not a reach"),
        ("claim rumour reach 1.5", "“1.5” is not a reach"),
        ("claim rumour reach 99999999999999", "“99999999999999” is not a reach"),
        ("claim rumour reach 9000000m", "more people than there are"),
        ("claim " + "x" * 501, "A claim is at most 500 characters; this one is 501."),
        ("verify", "Name the claim as c<n>"),
        ("verify c1", "Give the status as true, false, partly or unknown."),
        ("verify c1 maybe", "Give the status as true, false, partly or unknown."),
        ("verify c9 false", "#1 has no claim C9."),
        ("verify x1 false", "Name the claim as c<n>, such as c1, not “x1”."),
        ("rebut c1", "#1 has no approved line to answer with."),
        ("rebut c1 v7", "#1 has no v7."),
        ("rebut c1 seven", "Name the version as vN"),
        ("rebut c1 v1 now", "Unexpected “now”."),
        ("rebut c2", "#1 has no claim C2."),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(chat, room, line, problem):
    assert chat.say("dave", "claim PB-20 power banks explode reach 2000", room).ok
    before = chat.snapshot()
    who = "dave" if line.startswith(("claim", "verify")) else "alice"
    reply = chat.say(who, line, room)
    assert not reply.ok and problem in reply.message.plain(), reply.message.plain()
    assert chat.snapshot() == before


def test_verify_and_rebut_with_the_approved_line_show_where_it_was_published(chat, room):
    assert chat.say("dave", "claim PB-20 power banks explode https://weibo.example/p/1 reach 12000", room).ok
    verified = chat.say("bob", "verify c1 false no battery of the batch caught fire", room)
    assert verified.ok and "C1 verified false by Bob Li." in verified.message.plain()
    assert "It needs a published answer by" in verified.message.plain()
    approve(chat, room)
    rebutted = chat.say("alice", "rebut c1", room).message.plain()
    assert "C1 answered with v1 by Alice Chen." in rebutted
    assert "answered with v1, not yet published" in rebutted and "v1 is not published yet: /crisis publish." in rebutted
    assert chat.say("carol", "published weibo https://weibo.example/official/2", room).ok
    listing = chat.say("erin", "claims", room).message.plain()
    answer = "answered with v1, published on weibo https://weibo.example/official/2"
    assert f"C1 [false] “PB-20 power banks explode” — reach 12,000; {answer}" in listing
    assert "note: no battery of the batch caught fire" in listing
    assert "Claims of #1: 0 open, 0 false and unanswered" in listing


def test_rebut_refuses_a_version_never_approved_and_a_true_claim(chat, room):
    assert chat.say("dave", "claim The recall covers every model reach 500", room).ok
    assert chat.say("carol", f"draft rebuttal {REBUTTAL}", room).ok
    before = chat.snapshot()
    refused = chat.say("alice", "rebut c1 v1", room)
    assert not refused.ok and "v1 was never approved, so it cannot answer a claim." in refused.message.plain()
    assert chat.snapshot() == before
    assert chat.say("bob", "approve", room).ok and chat.say("alice", "approve", room).ok
    assert chat.say("dave", "verify c1 true", room).ok
    before = chat.snapshot()
    refused = chat.say("alice", "rebut c1", room)
    assert not refused.ok and "C1 was verified true: it cannot be rebutted." in refused.message.plain()
    assert chat.snapshot() == before


def test_an_older_approved_version_may_answer_a_claim(chat, room):
    assert chat.say("dave", "claim PB-20 power banks explode reach 12000", room).ok
    approve(chat, room)
    approve(chat, room, "Update: the recall now covers batch 7. Next update at 12:00.", kind="update")
    reply = chat.say("carol", "rebut c1 v1", room)
    assert reply.ok and "C1 answered with v1 by Carol Wang." in reply.message.plain()
    again = chat.say("carol", "rebut c1 v1", room)
    assert not again.ok and "C1 is answered with v1 already." in again.message.plain()


def test_the_card_counts_open_and_unanswered_claims(chat, room):
    assert "Claims:" not in chat.say("erin", "status", room).message.plain()
    assert chat.say("dave", "claim PB-20 power banks explode reach 12000", room).ok
    assert chat.say("dave", "claim The CEO resigned reach 50", room).ok
    assert chat.say("dave", "verify c1 false", room).ok
    assert "Claims: 2 open, 1 false and unanswered — /crisis claims" in chat.say("erin", "status", room).message.plain()


@pytest.fixture
def team_chat(engine, config, clock) -> Chat:
    """The starter team plus frank, a team member with no role in the incident."""
    from tests.handlers.test_permissions import with_people

    return Chat(engine, with_people(config, add=[("frank", "Frank Wu")]), clock)


@pytest.mark.parametrize(
    "line, allowed, refused, who",
    [
        ("claim Batteries explode reach 2000", ["dave", "carol", "erin"], ["frank"], "participants of the incident"),
        ("verify c1 false", ["alice", "bob", "dave"], ["carol", "erin", "frank"], "Incident commander, Legal counsel, Communications lead"),
        ("rebut c1", ["alice", "carol"], ["bob", "dave", "frank"], "Communications lead, Incident commander, Spokesperson"),
    ],
)
def test_who_may_change_the_claims_log(team_chat, line, allowed, refused, who):
    incident_id, room = team_chat.declare()
    assert team_chat.say("dave", "claim PB-20 power banks explode reach 12000", room).ok
    approve(team_chat, room)
    for person in refused:
        before = team_chat.snapshot()
        reply = team_chat.say(person, line, room)
        assert not reply.ok and f"Only {who}" in reply.message.plain(), (person, reply.message.plain())
        assert team_chat.snapshot() == before
    for person in allowed:
        reply = team_chat.say(person, line, room)
        assert reply.ok or "already" in reply.message.plain(), (person, reply.message.plain())
    outsider = team_chat.say("zed", "claims", room)
    assert not outsider.ok and "You are not in the team model yet" in outsider.message.plain()
    assert team_chat.say("frank", "claims", room).ok  # anyone on the team may read the log


def test_claim_outside_an_incident_room_asks_which_incident(chat, room):
    before = chat.snapshot()
    reply = chat.say("dave", "claim Batteries explode", "lobby")
    assert not reply.ok and "A claim belongs to an incident" in reply.message.plain()
    assert chat.snapshot() == before
    assert chat.say("dave", "#1 claim Batteries explode", "lobby").ok


def test_a_closed_incident_takes_no_claim(chat, room):
    assert chat.say("alice", "resolve contained", room).ok
    assert chat.say("alice", "close --force no review for a test", room).ok
    before = chat.snapshot()
    reply = chat.say("dave", "claim Batteries explode", room)
    assert not reply.ok and "Incident #1 is closed" in reply.message.plain()
    assert chat.snapshot() == before
    assert chat.say("erin", "claims", room).ok


def test_a_redelivered_claim_is_logged_once(chat, room):
    first = chat.say("dave", "claim Batteries explode reach 2000", room, event_id="ev-1")
    again = chat.say("dave", "claim Batteries explode reach 2000", room, event_id="ev-1")
    assert first.ok and again.duplicate
    assert "C2" not in chat.say("dave", "claims", room).message.plain()


def test_every_keyword_inside_a_claims_text_stays_text(chat, room):
    words = "claim #2 verify c1 false rebut v3 --signal 4 reach due in 30m @bob <b>&amp; https://x.example/a reach 1k"
    reply = chat.say("dave", words, room)
    assert reply.ok, reply.message.plain()
    listing = chat.say("dave", "claims", room).message.plain()
    assert "C1 [unverified] “#2 verify c1 false rebut v3 --signal 4 reach due in 30m @bob <b>&amp;” — reach 1,000;" in listing
    assert "https://x.example/a" in listing


def test_track_as_claim_by_a_member_without_a_role_is_refused_and_changes_nothing(team_chat):
    from handlers.core.context import Deps
    from handlers.signals.intake import SignalIn, receive
    from storage.db import session

    _id, room = team_chat.declare()
    with session(team_chat.engine) as db:
        receive(db, Deps(team_chat.config, team_chat.clock, ["console"]), SignalIn(source="x", title="Batteries explode", volume=5000))
    before = team_chat.snapshot()
    refused = team_chat.say("frank", "claim --signal 1", "triage")
    assert not refused.ok and "Only participants of the incident" in refused.message.plain()
    assert team_chat.snapshot() == before
    extra = team_chat.say("dave", "claim --signal 1 and more words", "triage")
    assert not extra.ok and "Unexpected “and more words”." in extra.message.plain()
    assert team_chat.snapshot() == before
    assert team_chat.say("dave", "claim --signal 1", "triage").ok
    assert "C1 [unverified] “Batteries explode” — reach 5,000;" in team_chat.say("frank", "claims", room).message.plain()


def test_reach_before_a_link_is_text_and_full_width_keywords_are_understood(chat, room):
    assert chat.say("dave", "claim Customers cannot reach https://help.example/pb20", room).ok
    assert chat.say("dave", "claim Batteries explode ｒｅａｃｈ １２ｋ", room).ok
    assert chat.say("bob", "verify Ｃ2 ＦＡＬＳＥ", room).ok
    listing = chat.say("dave", "claims", room).message.plain()
    assert "C1 [unverified] “Customers cannot reach” — reach 0; no answer yet\nhttps://help.example/pb20" in listing
    assert "C2 [false] “Batteries explode” — reach 12,000;" in listing


def test_the_claims_log_on_both_databases(any_engine, config, clock):
    chat = Chat(any_engine, config, clock)
    _id, room = chat.declare()
    assert chat.say("dave", "claim PB-20 power banks explode reach 3000000000", room).ok  # past 2³¹
    assert chat.say("dave", "claim The CEO resigned", room).ok
    assert chat.say("bob", "verify c1 false", room).ok
    approve(chat, room)
    assert chat.say("alice", "rebut c1", room).ok
    assert chat.say("carol", "published weibo https://weibo.example/official/2", room).ok
    listing = chat.say("erin", "claims", room).message.plain()
    assert "Claims of #1: 1 open, 0 false and unanswered" in listing
    assert "C1 [false] “PB-20 power banks explode” — reach 3,000,000,000; answered with v1, published on weibo" in listing
