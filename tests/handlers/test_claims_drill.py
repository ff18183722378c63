"""The shipped rumour drill (attack / forged-certificate-notice): the forged notice arrives, is logged as a claim,
verified false, nudged while unanswered, rebutted and published in rehearsal — and nothing leaves the drill room."""

from tests.handlers.test_drills import Drill

NOTICE = "Forged notice: CCC certificates of our 65W chargers revoked (doc. no. 2026-CQC-0417)"
REBUTTAL = (
    "Our 65W chargers hold valid CCC certificates: anyone can check certificate 2024011907000001 on the CNCA website. "
    "The notice circulating today is forged. Next update at 11:00."
)


def test_the_rumour_drill_is_rebutted_in_rehearsal(chat, clock):
    drill = Drill(chat, clock, "drill attack sev2 forged-certificate-notice")
    ((_room, inject),) = drill.injects_at(5 * 60)
    assert "2026-CQC-0417" in inject and "510,000" in inject
    assert drill.say("dave", f"claim {NOTICE} reach 510000").ok
    assert drill.say("alice", "verify c1 false the certificate is valid on the CNCA register").ok
    drill.at(66 * 60)
    heard = [(to, m.plain()) for to, m in chat.fire() if "claim C1" in m.plain()]
    assert [to for to, _text in heard] == ["alice"] and "has no published answer" in heard[0][1]  # sev2: 1 h from the claim
    assert drill.say("alice", f"draft rebuttal {REBUTTAL}").ok
    for who in ("bob", "erin", "carol", "dave"):
        drill.say(who, "approve")
    line = drill.say("erin", "line").message.plain()
    assert "Our 65W chargers hold valid CCC certificates" in line, line
    assert drill.say("alice", "rebut c1").ok
    published = drill.say("alice", "publish")
    assert published.ok and "DRILL: v1 would now go to" in published.message.plain()
    listing = drill.say("erin", "claims").message.plain()
    assert "C1 [false]" in listing and "answered with v1, published on newsroom" in listing and "0 false and unanswered" in listing
    assert [to for to, m in chat.fire() if "claim C1" in m.plain()] == []


def test_the_shipped_scenario_asks_for_the_rebuttal(config):
    from config.scenarios import scenarios_of

    scenario = scenarios_of(config)["forged-certificate-notice"]
    assert "rebut c1" in scenario.description.get("en") and "rebut c1" in scenario.description.get("zh")
