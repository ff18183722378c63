"""The scripted incident that the report tests share: product-quality sev1, from declaration to a review at +110 min."""

from datetime import timedelta

V1 = "We are sorry for the worry. The cause is probably a faulty cell. Next update at 10:30 CST on our website."
V2 = "We are sorry for the worry. We have stopped selling the affected lot while we check it. Next update at 10:30 CST on our website."


def scripted(chat, clock) -> str:
    """The whole response, minute by minute, up to a review at +110 min."""
    start = clock.now()
    _incident, room = chat.declare(line="declare product-quality sev1 Battery overheating")

    def at(minute: int, who: str, line: str) -> None:
        clock._now = start + timedelta(minutes=minute)
        reply = chat.say(who, line, room)
        assert reply.ok, (line, reply.message.plain())

    at(2, "bob", "ack")
    at(3, "dave", "ack")
    at(5, "erin", "ack")
    at(6, "carol", "ack")
    at(7, "alice", "ack")  # every sev1 role acknowledged: assembled in 7 min
    at(8, "alice", "handoff scribe @erin")
    at(9, "erin", "ack")
    at(10, "alice", "phase assessing")
    at(14, "carol", f"draft {V1}")
    at(15, "dave", "done 1")
    at(16, "bob", "skip 5 Samples already with the lab")
    at(20, "alice", "update Affected lot isolated")  # window 1 (00–30) kept
    at(26, "bob", "reject v1 Do not guess the cause")  # v1 decided after 12 min
    at(30, "carol", f"draft {V2}")
    at(35, "bob", "approve")
    at(38, "alice", "approve")  # the first approved statement: 38 min, target 60; v2 after 8 min
    at(40, "alice", "phase responding")
    at(45, "carol", "publish")
    clock._now = start + timedelta(minutes=55)
    assert chat.fire()  # window 2 (30–60) had no update: the update nudge fires
    at(60, "alice", "phase recovering")
    at(70, "alice", "update Refunds open")  # window 3 (60–90) kept
    at(95, "alice", "resolve Recall under way")  # window 4 (90–120) never closed
    at(100, "dave", "lesson + Monitoring caught it early")
    at(101, "carol", "lesson - The first draft speculated")
    at(102, "alice", "action Add a temperature test @erin due in 14d")
    clock._now = start + timedelta(minutes=110)
    return room
