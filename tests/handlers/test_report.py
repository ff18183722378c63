"""The review report's figures (PRODUCT.md §6), from a scripted timeline on the fake clock.

Incident #1 is product-quality sev1 declared by alice at 09:00 Asia/Shanghai (01:00 UTC). sev1 needs every role:
alice commander+comms, carol spokesperson, bob legal+exec, dave monitor+scribe, erin liaison. First statement due in
60 min, updates every 30 min.
"""

from datetime import timedelta

from sqlmodel import select

from handlers.core.effects import Report
from handlers.review import report
from storage.db import session
from storage.models import Incident
from tests.handlers.report_timeline import scripted


def test_every_metric_equals_the_scripted_timeline(chat, clock):
    scripted(chat, clock)
    with session(chat.engine) as db:
        review = report.gather(db, chat.config, 1, clock.now())
    figures, minutes = review.metrics, lambda n: timedelta(minutes=n)
    assert figures.assembled == minutes(7)
    assert (figures.first_statement, figures.first_statement_target, figures.first_statement_version) == (minutes(38), minutes(60), 2)
    assert figures.first_statement_on_time is True
    assert [(a.version, a.outcome, a.wait) for a in figures.approvals] == [(1, "rejected", minutes(12)), (2, "approved", minutes(8))]
    assert (figures.cadence, figures.cadence_windows, figures.cadence_kept, figures.cadence_percent) == (minutes(30), 3, 2, 67)
    assert figures.checklist == {"done": 2, "skipped": 1, "open": 11}  # item 3 (draft the holding statement) done by the draft
    assert figures.phases == {
        "detected": minutes(10),
        "assessing": minutes(30),
        "responding": minutes(20),
        "recovering": minutes(35),
        "resolved": minutes(15),  # 95 → the review at 110
    }
    assert [key for key, _at in review.milestones()] == ["assembled", "first_statement", "resolved"]
    scribes = [(h.person, h.ended_at is not None) for h in review.holdings if h.role == "scribe"]
    assert scribes == [("dave", True), ("erin", False)]  # who held it when
    [v1, v2] = review.versions
    assert (v1.author, v1.state, v1.reason) == ("carol", "rejected", "Do not guess the cause")
    assert [(role, person) for role, person, _at in v2.approvals] == [("legal", "bob"), ("commander", "alice")]
    assert v2.published and all(p.by == "carol" for p in v2.published)
    assert any(n.kind == "update_due" for n in review.nudges)


def test_review_posts_the_short_summary_and_asks_for_the_files(chat, clock):
    room = scripted(chat, clock)
    before = len(chat.outbox())
    reply = chat.say("erin", "review", room)  # anyone may
    assert reply.ok and reply.echoed
    assert reply.message.plain().splitlines() == [
        "📋 Review of #1 Battery overheating (Product quality crisis, severity 1 — critical, resolved)",
        "• Team assembled in: 7 min",
        "• First approved statement: 38 min (target 1 hr, on time)",
        "• Time to approval: v1 12 min (rejected), v2 8 min (approved)",
        "• Updates on cadence: 2 of 3 windows of 30 min (67 %)",
        "• Checklist: 2 done, 1 skipped, 11 open",
        "• Lessons: 2 · follow-up actions: 1 (1 open)",
    ]
    [effect] = chat.effects()[before:]
    assert isinstance(effect, Report) and effect.message.plain() == reply.message.plain()


def test_review_is_read_only_and_works_after_close(chat, clock):
    room = scripted(chat, clock)
    assert chat.say("alice", "close --force The open items move to the recall plan", room).ok
    before = {k: v for k, v in chat.snapshot().items() if k != "outbox"}
    reply = chat.say("dave", "review", room)
    assert reply.ok and "(Product quality crisis, severity 1 — critical, closed)" in reply.message.plain()
    assert {k: v for k, v in chat.snapshot().items() if k != "outbox"} == before
    with session(chat.engine) as db:
        incident = db.exec(select(Incident)).one()
        review = report.gather(db, chat.config, 1, clock.now() + timedelta(days=3))
    assert review.metrics.phases["resolved"] == incident.closed_at - incident.resolved_at  # close stops the clocks
    assert [key for key, _at in review.milestones()][-1] == "closed"


def test_a_severity_change_moves_the_targets_and_the_cadence(chat, clock):
    start = clock.now()
    _incident, room = chat.declare()  # sev2: first statement in 2 h, updates every 60 min
    clock._now = start + timedelta(minutes=30)
    assert chat.say("alice", "sev 1", room).ok  # from here: 60 min, every 30 min
    clock._now = start + timedelta(minutes=100)
    with session(chat.engine) as db:
        figures = report.gather(db, chat.config, 1, clock.now()).metrics
    assert figures.first_statement is None and figures.first_statement_target == timedelta(minutes=60)
    assert figures.assembled is None  # nobody acknowledged
    # The bot's clock: sev1 at +30 moves the promise to declaration + 30 min (now), then every 30 min: +30, +60 and +90
    # passed with no update; the window to +120 is still open.
    assert (figures.cadence, figures.cadence_windows, figures.cadence_kept, figures.cadence_percent) == (timedelta(minutes=60), 3, 0, 0)
    summary = chat.say("bob", "review", room).message.plain()
    assert "• Team assembled in: not yet" in summary and "• First approved statement: none yet (target 1 hr)" in summary


def test_review_needs_an_incident(chat):
    refused = chat.say("erin", "review", "lobby")
    assert not refused.ok and "/crisis #1 review" in refused.message.plain()
