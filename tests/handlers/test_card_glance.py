"""The incident card with every row present (roles held and accepted, checklist done, skipped and overdue, a claim, a
press inquiry, a required list, a published line, a draft waiting) reads the same on SQLite and PostgreSQL: its counts
and holders come from one query, and the counts never multiply by the roles held."""

from datetime import timedelta

from tests.conftest import Chat

CARD = [
    "🟠 #1 Battery overheating",
    "Severity sev2 · phase detected · playbook Product quality crisis",
    "Declared by Alice Chen at 09:00 Beijing time, 2 Mar",
    "Roles:",
    "• Incident commander: Alice Chen (not accepted yet)",
    "• Spokesperson: Carol Wang ✓",
    "• Communications lead: Carol Wang ✓",
    "• Legal counsel: Erin Liu (not accepted yet)",
    "• Monitoring lead: Dave Zhang (not accepted yet)",
    "• External liaison: Erin Liu (not accepted yet)",
    "• Scribe: Dave Zhang (not accepted yet)",
    "• Executive sponsor: Bob Li (not accepted yet)",
    "Checklist: 2/14 done, 1 skipped, 6 overdue",
    "Approved line: v1 (10:30 Beijing time, 2 Mar) · on 1 of 4 targets · v2 awaiting approval · v1: holding statement",
    "Targets: newsroom: not connected here (Slack), waiting (console) · announcements: not connected here (Telegram), waiting "
    "(console) · website: sent 10:30 Beijing time, 2 Mar — no public address: set ONEVOICE_PUBLIC_URL · weibo: to post by hand",
    "🌐 #1 has a public page but no public address: set ONEVOICE_PUBLIC_URL to this server's public base address, restart, "
    "then publish to the page again.",
    "Next update due 10:00 Beijing time, 2 Mar",
    "Stakeholders: 0/1 required lists told (1 overdue) · Press inquiries: 2 open (1 overdue)",
    "Claims: 2 open, 0 false and unanswered — /crisis claims",
]


def test_the_card_shows_every_row_with_counts_that_do_not_multiply_by_the_roles_held(any_engine, config, clock):
    chat = Chat(any_engine, config, clock)
    _incident, room = chat.declare()  # 09:00, seven roles filled at once
    for who, line in [
        ("alice", "assign comms @carol"),
        ("carol", "ack"),
        ("alice", "assign exec @bob"),
        ("alice", "assign legal @erin"),
        ("alice", "done 1"),
        ("alice", "skip 2 Call held yesterday"),
        ("carol", "claim Battery fires in Shenzhen reach 3k"),
        ("carol", "claim Stores are closing reach 200"),
        ("carol", "inquiry Reuters in 30m Is there a recall?"),
        ("carol", "inquiry Caixin Are stores closed?"),
    ]:
        assert chat.say(who, line, room).ok, line
    clock.advance(timedelta(minutes=90))  # 10:30: two items and the Reuters inquiry are late
    for who, line in [
        ("carol", "draft We are sorry. Nothing caught fire. Next update at 11:00."),
        ("alice", "approve"),
        ("erin", "approve"),
        ("carol", "publish"),
        ("carol", "draft A newer text. We are sorry. Next update at 12:00."),
    ]:
        assert chat.say(who, line, room).ok, line
    clock.advance(timedelta(hours=4))  # past the regulators' 4 h deadline for sev2, nobody told
    card = chat.say("bob", "status", room)
    assert card.ok and not card.private
    assert card.message.plain().splitlines() == CARD
