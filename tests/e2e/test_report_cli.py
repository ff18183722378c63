"""The review through the `onevoice` process: a scripted incident on a chosen clock, review, close, `onevoice report` and `stats`.

Each step is one console run (in this process, as `onevoice console` runs it) whose clock starts at the step's minute
(ONEVOICE_CLOCK_START), so the timeline holds the scripted times to within the second or two a run takes; the report
rounds to the minute. `report`, `stats` and `demo` run as real processes once each; the refusals of `report` in-process.
"""

import re
import sqlite3
from datetime import UTC, datetime, timedelta

import html5lib

from tests.e2e.conftest import Onevoice

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
XHTML = "{http://www.w3.org/1999/xhtml}"
V1 = "We are sorry for the worry. The cause is probably a faulty cell. Next update at 10:30 CST on our website."
V2 = "We are sorry for the worry. We have stopped selling the affected lot while we check it. Next update at 10:30 CST on our website."

# (minute, lines typed at that minute; `:as NAME` switches the speaker). Incident #1 is product-quality sev1.
STEPS = [
    (0, ["/crisis declare product-quality sev1 Battery overheating"]),
    (2, [":as bob", "/crisis #1 ack", ":as carol", "/crisis #1 ack", ":as dave", "/crisis #1 ack", ":as erin", "/crisis #1 ack"]),
    (7, ["/crisis #1 ack"]),  # alice, the last required role: assembled in 7 min
    (10, ["/crisis #1 phase assessing", ":as dave", "/crisis #1 done 1", ":as bob", "/crisis #1 skip 5 Samples already with the lab"]),
    (14, [":as carol", f"/crisis #1 draft {V1}"]),
    (20, ["/crisis #1 update Affected lot isolated"]),  # window 00–30 kept
    (26, [":as bob", "/crisis #1 reject v1 Do not guess the cause"]),  # v1: 12 min
    (30, [":as carol", f"/crisis #1 draft {V2}", ":as bob", "/crisis #1 approve"]),
    (38, ["/crisis #1 approve", "/crisis #1 phase responding"]),  # first approved statement: 38 of 60 min; v2: 8 min
    (70, ["/crisis #1 update Refunds open"]),  # window 30–60 missed, 60–90 kept
    (95, ["/crisis #1 resolve Recall under way"]),
]


def at(onevoice: Onevoice, minute: int, lines: list[str], as_: str = "alice") -> str:
    """Type lines into the console with the process clock set to T0 + minute."""
    onevoice.env["ONEVOICE_CLOCK_START"] = (T0 + timedelta(minutes=minute)).isoformat()
    return onevoice.type_in("\n".join(lines) + "\n", as_=as_)


def metrics_of(html: str) -> dict[str, str]:
    """The metrics table of the HTML report, as {metric: value}; strict parsing fails on any HTML error."""
    document = html5lib.HTMLParser(strict=True).parse(html)
    section = next(s for s in document.iter(f"{XHTML}section") if s.get("id") == "metrics")
    rows = section.find(f".//{XHTML}table").iter(f"{XHTML}tr")
    cells = [["".join(td.itertext()) for td in row.iter(f"{XHTML}td")] for row in rows]
    return dict(cell for cell in cells if len(cell) == 2)


def test_a_full_incident_ends_with_a_review_and_a_report_with_the_scripted_figures(onevoice, tmp_path):
    for minute, lines in STEPS:
        at(onevoice, minute, lines)
    refused = at(onevoice, 100, ["/crisis #1 close"])
    assert "The review of #1 is not complete: no lesson yet." in refused and "/crisis close --force <reason>" in refused
    at(onevoice, 101, ["/crisis #1 lesson + Monitoring caught it early", "/crisis #1 action Add a temperature test @erin due in 14d"])
    review = at(onevoice, 105, ["/crisis #1 review"], as_="erin")  # anyone may
    assert "• Team assembled in: 7 min" in review and "• First approved statement: 38 min (target 1 hr, on time)" in review
    assert "• Time to approval: v1 12 min (rejected), v2 8 min (approved)" in review
    assert "• Updates on cadence: 2 of 3 windows of 30 min (67 %)" in review
    shown = re.search(r"📄 Full report: (\S+report-1\.md) · (\S+report-1\.html)", review)
    assert shown and shown.group(2) == str(onevoice.folder / "reports" / "report-1.html")  # beside the database by default
    assert "#1 closed by Alice Chen." in at(onevoice, 110, ["/crisis #1 close --force The open items move to the recall plan"])

    onevoice.env["ONEVOICE_CLOCK_START"] = (T0 + timedelta(days=1)).isoformat()
    done = onevoice.call("report", "1", "--out", str(tmp_path / "out"))  # its `main` in this process: a new Python costs seconds
    assert done.returncode == 0, done.stderr
    md_path, html_path = (tmp_path / "out" / "report-1.md", tmp_path / "out" / "report-1.html")
    assert done.stdout.split() == [str(md_path), str(html_path)]
    figures = metrics_of(html_path.read_text(encoding="utf-8"))
    assert figures == {
        "Time until the team was in place": "7 min",
        "Time to first approved statement": "38 min (target 1 hr, on time)",
        "Update cadence kept": "2 of 3 windows of 30 min (67 %)",
        "Checklist completion": "2 done, 1 skipped, 11 open (21 %)",
        "Time to approval of v1": "12 min (rejected)",
        "Time to approval of v2": "8 min (approved)",
    }
    markdown = md_path.read_text(encoding="utf-8")
    for name, value in figures.items():
        assert f"| {name} | {value} |" in markdown
    for phase, took in {"detected": "10 min", "assessing": "28 min", "responding": "57 min", "resolved": "15 min"}.items():
        assert f"| {phase} | {took} |" in markdown  # until close, whatever the report's own clock says
    assert "- Monitoring caught it early (Alice Chen)" in markdown and "| A1 | Add a temperature test | Erin Liu |" in markdown

    missing = onevoice.call("report", "9")
    assert missing.returncode == 1 and "there is no incident #9" in missing.stderr


def test_close_is_forced_only_by_the_commander_and_with_a_reason(onevoice):
    onevoice.type_in("/crisis declare outage sev3 Checkout errors\n/crisis #1 resolve\n")
    refused = onevoice.type_in("/crisis #1 close --force Reviewed offline\n", as_="dave")
    assert "Only Incident commander may use close" in refused
    without_reason = onevoice.type_in("/crisis #1 close --force\n")
    assert "Say why you force the close." in without_reason and "#1 closed" not in without_reason
    assert "#1 closed by Alice Chen." in onevoice.type_in("/crisis #1 close --force Reviewed with the board offline\n")
    with sqlite3.connect(onevoice.folder / "onevoice.db") as db:
        assert db.execute("select text from timelineevent where kind = 'forced_close'").fetchall() == [("Reviewed with the board offline",)]
    assert "📋 Review of #1 Checkout errors (Service outage or security incident, severity 3 — moderate, closed)" in onevoice.type_in(
        "/crisis #1 review\n", as_="erin"
    )  # once closed too
    assert (onevoice.folder / "reports" / "report-1.html").exists()


def test_stats_count_real_incidents_and_leave_drills_out(onevoice):
    at(onevoice, 0, ["/crisis declare product-quality sev1 Battery overheating", "/crisis declare product-quality sev2 Charger recall"])
    at(onevoice, 1, ["/crisis declare product-quality sev1 Fake recall letter", "/crisis #1 update Lot isolated"])
    with sqlite3.connect(onevoice.folder / "onevoice.db") as db:
        db.execute("update incident set drill = 1 where id = 3")  # as `drill` flags it
    for incident, drafted, approved in ((1, 10, 20), (2, 30, 40), (3, 2, 3)):  # the drill's 3 min would pull the median down
        at(onevoice, drafted, [":as carol", f"/crisis #{incident} draft {V2}", ":as bob", f"/crisis #{incident} approve"])
        at(onevoice, approved, [f"/crisis #{incident} approve"])
    onevoice.env["ONEVOICE_CLOCK_START"] = (T0 + timedelta(minutes=125)).isoformat()  # clear of window edges
    done = onevoice.call("stats")  # its `main` in this process (the script itself: test_first_hour runs `stats`)
    assert done.returncode == 0, done.stderr
    # As the bot's update clock ran: #1 sev1 kept its window with the update at +1, then missed +31, +61, +91 and +121;
    # #2 sev2 missed +60 and +120.
    assert done.stdout.splitlines() == [
        "Incidents (drills excluded): 2",
        "By playbook: product-quality 2",
        "By severity: sev1 1, sev2 1",
        "Median time to first approved statement: 30 min (2 of 2 incidents had one)",
        "Update cadence kept: 1 of 7 windows (14 %)",
        "Stakeholder lists told by their deadline: 0 of 1 (0 %)",  # #1's regulators were due at 1 h; #2's (4 h) not yet
        "Median press inquiry answer time: — (0 answered or declined)",
        "Median time to answer a false claim: — (0 claims answered)",
    ]


def test_the_demo_ends_with_the_review_and_prints_where_the_html_report_is(onevoice):
    done = onevoice.run("demo", timeout=120)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    last = done.stdout.rstrip().splitlines()[-1]
    assert last.startswith("Review report: ") and last.endswith("report-1.html")
    figures = metrics_of(open(last.removeprefix("Review report: "), encoding="utf-8").read())
    assert figures["Time to first approved statement"].endswith("(target 1 hr, on time)")
    assert "📋 Review of #1 Power banks overheating while charging" in done.stdout


def test_report_refuses_what_cannot_be_an_incident_number_or_a_folder_in_one_line(onevoice, tmp_path):
    onevoice.type_in("/crisis declare outage sev3 Checkout errors\n")
    for given in ("99999999999999999999", "abc", "0", "-3", "#", "٣"):
        done = onevoice.call("report", given)
        assert done.returncode == 2, (given, done.stderr)
        assert done.stderr == f"onevoice: {given!r} is not an incident number (a whole number from 1, e.g. 12)\n", given
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine", encoding="utf-8")
    for out in (a_file, a_file / "reports"):  # the folder named is a file, or sits inside one
        done = onevoice.call("report", "1", "--out", str(out))
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr == f"onevoice: cannot write the report into {a_file / 'reports'}: a file stands where the folder should be\n"
    assert a_file.read_text(encoding="utf-8") == "mine" and not (onevoice.folder / "reports").exists()
    assert onevoice.call("report", "#1").returncode == 0  # a real number still works, with or without its #
