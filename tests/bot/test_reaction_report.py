"""The review report's reaction chart (PRODUCT.md §7): one point per bucket, one mark per publication, the change after each,
and `stats`' median change across real incidents; drawn by headless Chromium when the machine has it."""

import os
import subprocess

import pytest

from bot.web.report_files import write_report
from handlers.signals import landing
from storage.db import session
from tests.bot.test_report_files import SVG, XHTML, chromium, parse, png_pixels
from tests.handlers.reaction_world import World
from tests.handlers.test_reaction import SCENARIO

SECOND = "We are sorry: 3 lots of PB-20 power banks are recalled. Next update at 13:00."


def scripted(chat, clock) -> World:
    """Signals over five hours, v1 out at +1:00 and v2 at +2:30."""
    world = World(chat, clock)
    world.signal(10, incident=1, dedup_key="a", volume=80, sentiment=-0.6, keywords=["PB-20"])
    world.signal(40, dedup_key="b", volume=40, sentiment=-0.6, keywords=["pb-20"], title="more")
    world.publish(60)
    world.signal(90, incident=1, dedup_key="c", volume=60, sentiment=-0.3)
    world.publish(150, version=2, text=SECOND)
    world.signal(200, incident=1, dedup_key="d", volume=20, sentiment=0.1)
    world.at(300)
    return world


def report(chat, clock, folder) -> tuple[str, str]:
    with session(chat.engine) as db:
        md, html = write_report(db, chat.config, 1, clock.now(), folder)
    return md.read_text(encoding="utf-8"), html.read_text(encoding="utf-8")


def test_the_report_draws_one_point_per_bucket_and_one_mark_per_publication(chat, clock, tmp_path):
    scripted(chat, clock)
    md, html = report(chat, clock, tmp_path)
    document = parse(html)
    [section] = [s for s in document.iter(f"{XHTML}section") if s.get("id") == "reaction"]
    [svg] = section.iter(f"{SVG}svg")
    classes = [element.get("class") for element in svg.iter() if element.get("class")]
    assert classes.count("reaction-point") == 6  # +0:00 … +5:00, hourly for a sev2
    assert classes.count("reaction-mark") == 2
    assert [t.text for g in svg.iter(f"{SVG}g") if g.get("class") == "reaction-mark" for t in g.iter(f"{SVG}text")] == ["v1", "v2"]
    rows = [["".join(td.itertext()) for td in tr.iter(f"{XHTML}td")] for tr in section.iter(f"{XHTML}tr")][1:]
    assert rows == [
        ["v1", "+1:00", "newsroom, announcements, website", "volume ×0.17 (120 → 20 an hour), sentiment −0.60 → −0.10"],
        # v2 went out 2 h 30 min before the report: its 20 after it count over the 3 hours begun, not over 4
        ["v2", "+2:30", "newsroom, announcements, website", "volume ×0.11 (60 → 6.7 an hour), sentiment −0.30 → 0.10"],
    ]
    assert "| v2 | +2:30 | newsroom, announcements, website | volume ×0.11 (60 → 6.7 an hour), sentiment −0.30 → 0.10 |" in md


def test_a_report_without_signals_has_no_reaction_section(chat, clock, tmp_path):
    World(chat, clock)
    md, html = report(chat, clock, tmp_path)
    assert 'id="reaction"' not in html and "Public reaction" not in md


def test_stats_give_the_median_change_across_real_incidents_only(chat, clock, tmp_path):
    world = scripted(chat, clock)
    (tmp_path / "rehearsal.yaml").write_text(SCENARIO, encoding="utf-8")
    chat.config.scenarios_dir, chat.config._scenarios = str(tmp_path), None
    drill = chat.say("alice", "drill product-quality rehearsal")  # #2: its statement lands badly, and must not count
    assert drill.ok, drill.message.plain()
    world.room = chat.room_of(drill.incident_id)
    world.fire(310, "Mentions up")
    world.publish(320)
    world.fire(390, "Still rising")
    world.at(700)
    drilled = chat.say("erin", "reaction", world.room).message.plain()
    assert "v1 went out +0:20: 4 h after, volume ×0.75 (30 → 22.5 an hour)" in drilled  # the drill's: left out of the medians
    with session(chat.engine) as db:
        medians = landing.across(db, clock.now())
    assert medians.publications == 2 and medians.ratio == pytest.approx((20 / 120 + 5 / 60) / 2)
    assert medians.shift == pytest.approx((0.5 + 0.4) / 2)


def test_chromium_draws_the_reaction_chart(chat, clock, tmp_path):
    binary = chromium()
    if binary is None:
        pytest.skip("Chromium is not installed here (.ci/run installs Debian's chromium)")
    scripted(chat, clock)
    _md, html = report(chat, clock, tmp_path)
    start, end = html.index('<section id="reaction">'), html.index("</section>", html.index('<section id="reaction">'))
    drawn = tmp_path / "drawn.html"
    drawn.write_text(f"<!DOCTYPE html><html><body>{html[start:end]}</section></body></html>", encoding="utf-8")
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body><section><h2>Public reaction</h2></section></body></html>", encoding="utf-8")
    pixels = []
    for page in (drawn, blank):
        shot = tmp_path / f"{page.stem}.png"
        command = [binary, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}", "--window-size=1000,600"]
        done = subprocess.run([*command, page.as_uri()], capture_output=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)})
        assert shot.exists(), done.stderr.decode(errors="replace")[-2000:]
        pixels.append(png_pixels(shot))
    (width, height, chart), (_w, _h, empty) = pixels
    assert (width, height) == (1000, 600)
    assert rows(chart, height) > rows(empty, height) + 150  # the points, lines and marks make most rows of the chart differ


def rows(pixels: bytes, height: int) -> int:
    """How many different scanlines a screenshot has: a blank page repeats one."""
    size = len(pixels) // height
    return len({pixels[at : at + size] for at in range(0, len(pixels), size)})


def test_the_stats_line_gives_the_medians(chat, clock):
    from bot.cli_review import _reaction_stats

    scripted(chat, clock)
    with session(chat.engine) as db:
        assert _reaction_stats(db, clock.now()) == "Reaction in the 4 h after a publication (median of 2): volume ×0.14, sentiment +0.45"
