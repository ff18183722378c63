"""Each verb through the console, as a user types it: the real `onevoice console` process once (declare and status), every
other verb through the same console in this process (Onevoice.type_in), which skips only the start of a new process."""

import re
import sqlite3

import pytest

from tests.e2e.conftest import Onevoice

DECLARE = "/crisis declare product-quality sev2 Battery overheating reports\n"


@pytest.mark.fresh_start  # `python -m bot.cli` itself starts, in a new interpreter (the others fork: tests/e2e/forked_run.py)
def test_declare_and_status_show_room_card_and_checklist(onevoice):
    out = onevoice.console(DECLARE + "/crisis status\n")
    room = re.search(r"Room: (crisis-\d{8}-battery-overheating-reports)", out).group(1)
    assert f"[#{room}] room opened" in out
    assert f"[#{room}] 📌 🟠 #1 Battery overheating reports" in out  # the pinned card
    assert "Legal counsel: Bob Li (not accepted yet)" in out
    assert "Checklist (14 items)" in out and "☐ 1 Collect every report" in out
    assert f"(you are now in #{room})" in out
    status = out.split("/crisis status", 1)[1]
    assert "Severity sev2 · phase detected" in status and "Checklist: 0/14 done" in status


def test_chinese_config_makes_the_bot_speak_chinese(tmp_path):
    out = Onevoice(tmp_path, language="zh").type_in(DECLARE + "/crisis status\n")
    assert "法务: Bob Li" in out or "法务：Bob Li" in out
    assert "Checklist" not in out and "清单" in out


# (who, lines after declaring in the room, words the output must show)
VERBS = {
    "list": ("alice", "/crisis list\n", "#1 Battery overheating reports · sev2"),
    "roles": ("dave", "/crisis roles\n", "Scribe: Dave Zhang (not accepted yet)"),
    "assign": ("alice", "/crisis assign exec @erin\n", "Executive sponsor: Erin Liu (by Alice Chen)"),
    "ack": ("bob", "/crisis ack\n", "Bob Li accepted: Legal counsel."),
    "handoff": ("bob", "/crisis handoff legal @erin\n", "Legal counsel: Bob Li → Erin Liu"),
    "sev": ("alice", "/crisis sev 1\n", "Severity changed sev2 → sev1"),
    "phase": ("alice", "/crisis phase responding\n", "Phase detected → responding"),
    "tasks": ("dave", "/crisis tasks mine\n", "Collect every report"),
    "task": ("alice", "/crisis task Call the battery supplier @carol in 30m\n", "15 Call the battery supplier · Carol Wang"),
    "done": ("dave", "/crisis done 1\n", "☑ 1 Collect every report"),
    "skip": ("bob", "/crisis skip 5 Samples already with the lab\n", "skipped: Samples already with the lab"),
    "undo": ("dave", "/crisis done 1\n/crisis undo 1\n", "☐ 1 Collect every report"),
    "note": ("dave", "/crisis note Volume doubled on Weibo\n", "Noted in the timeline of #1."),
    "update": ("alice", "/crisis update Lot 2311 isolated\n", "Update on #1 Battery overheating reports from Alice Chen"),
    "resolve": ("alice", "/crisis resolve Recall under way\n", "#1 resolved by Alice Chen"),
    "reopen": ("alice", "/crisis resolve\n/crisis reopen\n", "#1 reopened by Alice Chen: back to responding."),
    "close": ("alice", "/crisis resolve\n/crisis lesson + Quick stop-sale\n/crisis close --force Moved on\n", "#1 closed by Alice Chen."),
    "help": ("erin", "/crisis help assign\n", "/crisis assign <role> @person"),
    "status": ("erin", "/crisis card\n", "Checklist: 0/14 done"),
}


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_each_verb_through_the_console(onevoice, verb):
    who, lines, expected = VERBS[verb]
    onevoice.type_in(DECLARE)
    out = onevoice.type_in(f":room {_room_name(onevoice)}\n{lines}", as_=who)
    assert expected in out, out


def _room_name(onevoice) -> str:
    with sqlite3.connect(onevoice.folder / "onevoice.db") as db:
        return db.execute("select name from room where incident_id = 1").fetchone()[0]


def test_refusals_reach_the_user_and_change_nothing(onevoice):
    out = onevoice.type_in(DECLARE + "/crisis sev 1\n", as_="dave")  # dave is not the commander
    assert "Only Incident commander may use sev" in out and "Usage: /crisis sev <1-4>" in out
    assert "Severity changed" not in onevoice.type_in("/crisis #1 status\n")


def test_unknown_verbs_and_chatter(onevoice):
    out = onevoice.type_in("/crisis declair product-quality x\nhello team\n/crisis\n")
    assert "Unknown command “declair”." in out and "Did you mean declare?" in out
    assert "OneVoice commands." in out  # a bare /crisis shows the overview


def test_as_switches_the_speaker(onevoice):
    out = onevoice.type_in(DECLARE + ":as bob\n/crisis ack\n:as nobody\n")
    assert "(now typing as bob)" in out and "Bob Li accepted" in out and "(no team member nobody" in out


def test_unknown_speaker_is_refused(onevoice):
    done = onevoice.run("console", "--as", "mallory", stdin="")
    assert done.returncode == 2 and "no team member 'mallory'" in done.stderr


def test_chatter_that_starts_with_a_verb_changes_nothing_without_the_slash(onevoice):
    """Found by attack: "resolve it asap" typed as chat resolved the incident; read-only verbs still answer."""
    onevoice.type_in(DECLARE)
    room = _room_name(onevoice)
    out = onevoice.type_in(f":room {room}\nresolve it asap\nupdate everyone please\nnote the door is open\nstatus\n")
    assert "Not run: a line without the slash that starts with “resolve” reads as chat. To run it: /crisis resolve it asap" in out
    assert "“update” reads as chat" in out and "“note” reads as chat" in out
    status = onevoice.type_in(f":room {room}\n/crisis status\n")
    assert "Severity sev2 · phase detected" in status  # not resolved
    assert "everyone please" not in status and "the door is open" not in status  # no update, no note
