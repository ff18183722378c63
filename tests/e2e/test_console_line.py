"""The one approved line through the console, as a team types it (in this process: tests/e2e/test_console.py runs the
real `onevoice console` process)."""

import sqlite3

from tests.e2e.conftest import Onevoice

DECLARE = "/crisis declare product-quality sev2 Battery overheating reports\n"
V1 = "We are aware of the reports and we are sorry. The cause is probably the charger. Next update at 11:00 CST."
V2 = "We are sorry for the worry 🙏: 2 lots are off sale while we check them. 我们深表歉意。 Next update at 11:00 CST."
V3 = "We are sorry for the worry 🙏: 3 lots are off sale while we check them. 我们深表歉意。 Next update at 12:00 CST."


def states(onevoice: Onevoice) -> dict[int, str]:
    with sqlite3.connect(onevoice.folder / "onevoice.db") as db:
        return dict(db.execute("select version, state from statement order by version").fetchall())


def test_the_whole_line_from_draft_to_republish(onevoice):
    onevoice.type_in(DECLARE)
    script = [
        ":as carol",
        f"/crisis #1 draft {V1}",
        ":as bob",
        "/crisis #1 reject v1 Do not guess the cause",
        ":as carol",
        f"/crisis #1 draft {V2}",
        ":as bob",
        "/crisis #1 approve",
        ":as erin",
        "/crisis #1 line",
        ":as alice",
        "/crisis #1 approve",
        ":as erin",
        "/crisis line",
        ":as carol",
        "/crisis #1 publish newsroom announcements",
        "/crisis #1 published weibo https://weibo.com/brand/1",
        f"/crisis #1 draft {V3}",
        ":as bob",
        "/crisis #1 approve",
        ":as alice",
        "/crisis #1 approve",
    ]
    out = onevoice.type_in("\n".join(script) + "\n")
    after = lambda marker: out.split(marker, 1)[1]  # noqa: E731  (what the bot said after a typed line)

    assert "• Speculation: “probably”" in after(f"draft {V1}")  # vetted on the way in
    assert "[DM → carol] Your draft v1 of #1 was rejected by Bob Li: Do not guess the cause" in out
    assert "Bob Li approved v2 as Legal counsel. Still needed: Incident commander (Alice Chen)." in out
    assert "#1 Battery overheating reports: no approved line yet." in after("erin @ #lobby> /crisis #1 line")
    assert "✅ v2 is now the approved line of #1" in out
    line_in_dm = after("erin @ #lobby> /crisis line\n")
    assert "[bot → erin] 📣 #1 Battery overheating reports — approved line v2" in line_in_dm and f"\n    {V2}\n" in line_in_dm
    published = after("publish newsroom announcements")
    assert f"[#newsroom] {V2}\n" in published and f"[#announcements] {V2}\n" in published  # verbatim, emoji and CJK included
    assert "v2 published by Carol Wang to newsroom, announcements." in published
    assert "v2 recorded as published on weibo by Carol Wang. https://weibo.com/brand/1" in out
    superseded = after(f"draft {V3}")
    assert "Changes from v2: “2” → “3”; “11” → “12”" in superseded
    assert "• Not in the approved line (number): “3”" in superseded
    assert "✅ v3 is now the approved line of #1" in superseded
    assert "It replaces v2. Changes: “2” → “3”; “11” → “12”" in superseded
    assert "To republish: newsroom, announcements, weibo." in superseded
    assert "📌 pinned message updated: 📣 Approved line of #1 — v3" in superseded  # the pinned line, edited in place
    assert states(onevoice) == {1: "rejected", 2: "superseded", 3: "approved"}


def test_refusals_on_the_line_are_clear_and_change_nothing(onevoice):
    onevoice.type_in(DECLARE)
    onevoice.type_in(f"/crisis #1 draft {V2}\n", as_="carol")
    out = onevoice.type_in(
        "\n".join(
            [
                ":as carol",
                "/crisis #1 approve",  # the author
                ":as dave",
                "/crisis #1 approve",  # not an approver
                ":as bob",
                "/crisis #1 publish",  # not the spokesperson, and no line yet
            ]
        )
        + "\n"
    )
    assert "You wrote v1, so your own approval cannot count. It needs: Legal counsel (Bob Li), Incident commander (Alice Chen)." in out
    assert "Only the approvers of #1 may decide on a draft: Legal counsel (Bob Li), Incident commander (Alice Chen)." in out
    assert "Only Spokesperson, Incident commander may use publish in incident #1." in out
    assert states(onevoice) == {1: "pending"}


def test_vet_template_and_history_through_the_console(onevoice):
    onevoice.type_in(DECLARE)
    out = onevoice.type_in("/crisis vet No comment. It was user error.\n/crisis #1 template apology\n/crisis #1 history\n", as_="dave")
    assert "• “No comment”: “No comment”" in out and "• Blame-shifting: “user error”" in out
    assert "We sincerely apologise for the quality of some of our products." in out and "for Battery overheating" not in out
    assert "#1 has no drafts yet." in out
