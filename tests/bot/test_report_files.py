"""The review report files: valid standalone HTML with the timeline chart, user text escaped, rendered by Chromium when present."""

import asyncio
import os
import re
import shutil
import struct
import subprocess
import zlib
from datetime import timedelta
from pathlib import Path

import html5lib
import pytest
from sqlmodel import select

from bot.console.front import ConsoleAdapter
from bot.outbox.worker import Deliverer
from bot.web.report_files import write_report
from handlers.review import report
from handlers.text.i18n import speaking
from storage.db import session
from storage.models import Incident, Nudge
from tests.handlers.report_timeline import scripted
from tests.handlers.test_drills import Drill

SVG = "{http://www.w3.org/2000/svg}"
XHTML = "{http://www.w3.org/1999/xhtml}"
NASTY = "<script>alert('x')</script> & <b>bold</b>"


def written(chat, clock, folder: Path) -> tuple[str, str]:
    with session(chat.engine) as db:
        md, html = write_report(db, chat.config, 1, clock.now(), folder)
    assert (md.name, html.name) == ("report-1.md", "report-1.html")
    return md.read_text(encoding="utf-8"), html.read_text(encoding="utf-8")


def parse(html: str):
    """Strict HTML5 parsing: any parse error fails."""
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=True).parse(html)


def test_the_html_is_valid_standalone_and_draws_one_mark_per_milestone(chat, clock, tmp_path):
    room = scripted(chat, clock)
    assert chat.say("alice", "close --force The open items move to the recall plan", room).ok
    _md, html = written(chat, clock, tmp_path)
    document = parse(html)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html) and "<link" not in html and "<script" not in html  # no external assets
    [svg] = chart_of(document)
    milestones = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "milestone"]
    with session(chat.engine) as db:
        incident = db.exec(select(Incident)).one()
        fired = db.exec(select(Nudge).where(Nudge.attempts > 0)).all()
        expected = report.gather(db, chat.config, 1, clock.now()).milestones()
    # team assembled, first approved statement, resolved, closed: each reached once, each drawn once
    assert len(expected) == 4 and incident.resolved_at and incident.closed_at
    assert [g.get("data-milestone") for g in milestones] == ["assembled", "first_statement", "resolved", "closed"]
    assert all(g.find(f"{SVG}title").text for g in milestones)
    kinds = [element.get("class") for element in svg.iter() if element.get("class")]
    assert kinds.count("version") == 2 and kinds.count("update") == 2 and kinds.count("nudge") == len(fired) > 0
    assert kinds.count("phase") == 5  # detected, assessing, responding, recovering, resolved (closed ends the chart)
    printed = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "mark-label"]
    assert printed.count("v1 rejected") == printed.count("v2 approved") == 1  # every mark labelled in the page, not only on hover
    assert {"update 09:20", "update 10:10", "update missed 09:50"} <= set(printed)  # the bot's own deadline, missed, is on the chart
    assert {"team assembled 09:07", "first approved statement 09:38", "resolved 10:35", "closed 10:50"} <= set(printed)
    assert printed.count("update late 09:55") == 1 and "checklist item overdue 09:55" in printed  # each reminder sent, named
    [key] = [ul for ul in document.iter(f"{XHTML}ul") if ul.get("class") == "legend"]
    legend = ["".join(li.itertext()).strip() for li in key]
    assert "reminder sent" in legend and "update deadline missed" in legend and "milestone" in legend
    swatches = [shape.get("fill") for shape in key.iter() if shape.get("fill")]
    assert len(swatches) == len(legend) == len(set(swatches))  # one colour per meaning, each named
    tables = " ".join("".join(td.itertext()) for td in document.iter(f"{XHTML}td"))
    assert "7 min" in tables and "38 min (target 1 hr, on time)" in tables and "2 of 3 windows of 30 min (67 %)" in tables


def test_user_text_stays_text(chat, clock, tmp_path):
    _incident, room = chat.declare(line=f"declare product-quality sev1 {NASTY}")
    clock.advance(timedelta(minutes=5))
    assert chat.say("dave", f"note {NASTY}", room).ok
    assert chat.say("alice", f"update {NASTY}", room).ok
    md, html = written(chat, clock, tmp_path)
    document = parse(html)
    assert not list(document.iter(f"{XHTML}script")) and not list(document.iter(f"{XHTML}b"))
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert NASTY in "".join(document.find(f".//{XHTML}h1").itertext())
    [svg] = chart_of(document)
    assert any(NASTY in (t.text or "") for t in svg.iter(f"{SVG}title"))  # the update's mark quotes it, as text
    assert "<script>" not in md and r"\<script\>" in md  # Markdown viewers render no raw HTML from user text


def test_labels_follow_the_configured_language(chat, clock, tmp_path):
    scripted(chat, clock)
    chat.config = chat.config.model_copy(update={"language": "zh"})
    _md, html = written(chat, clock, tmp_path)
    parse(html)
    assert '<html lang="zh-Hans">' in html and "复盘报告" in html and "时间线" in html and "Timeline" not in html


def test_delivering_the_report_effect_writes_the_files_and_tells_the_room(chat, clock, tmp_path, capsys):
    room = scripted(chat, clock)
    assert chat.say("erin", "review", room).ok
    deliverer = Deliverer(chat.engine, chat.deps, ConsoleAdapter(_Out()), reports=tmp_path / "out")
    with speaking("en"):
        asyncio.run(deliverer.deliver_pending())
    said = deliverer.adapter.out.text
    assert f"📄 Full report: {tmp_path / 'out' / 'report-1.md'} · {tmp_path / 'out' / 'report-1.html'}" in said
    assert "• Team assembled in: 7 min" in said
    assert (tmp_path / "out" / "report-1.html").stat().st_size > 5000


def chart_of(document) -> list:
    """The timeline chart's SVG (the legend's swatches are small SVGs too)."""
    return [svg for svg in document.iter(f"{SVG}svg") if svg.get("class") == "chart"]


class _Out:
    def __init__(self):
        self.text = ""

    def write(self, value: str) -> None:
        self.text += value

    def isatty(self) -> bool:
        return False


def chromium() -> str | None:
    """The Chromium binary, if this machine has one."""
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def png_pixels(path: Path) -> tuple[int, int, bytes]:
    """Width, height and the decompressed scanlines of a PNG: enough to tell a blank page from a drawn one."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    at, chunks, width, height = 8, [], 0, 0
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            chunks.append(body)
        at += 12 + length
    return width, height, zlib.decompress(b"".join(chunks))


def test_chromium_renders_the_report(chat, clock, tmp_path):
    binary = chromium()
    if binary is None:
        pytest.skip("Chromium is not installed here (.ci/run installs Debian's chromium); the screenshot test needs it")
    room = scripted(chat, clock)
    assert chat.say("alice", "close --force The open items move to the recall plan", room).ok
    written(chat, clock, tmp_path)
    shot = tmp_path / "report.png"
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}", "--window-size=1200,1600"]
    done = subprocess.run(
        [*command, (tmp_path / "report-1.html").as_uri()],
        capture_output=True,
        timeout=120,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert shot.exists(), done.stderr.decode(errors="replace")[-2000:]
    width, height, pixels = png_pixels(shot)
    assert (width, height) == (1200, 1600) and shot.stat().st_size > 20_000
    assert len(set(pixels)) > 64  # text, bands and marks in many shades, not one blank colour


def test_a_drill_report_carries_its_scorecard_with_each_inject_answered(chat, clock, tmp_path):
    drill = Drill(chat, clock)
    assert drill.injects_at(5 * 60 + 1)  # I1 arrives at minute 5…
    drill.at(9 * 60 + 1)
    assert drill.say("carol", "answer i1 holding line sent to the reporter").ok  # …and is answered four minutes later
    with session(chat.engine) as db:
        _md_path, html_path = write_report(db, chat.config, drill.id, clock.now(), tmp_path)
    html = html_path.read_text(encoding="utf-8")
    [section] = [s for s in parse(html).iter(f"{XHTML}section") if s.get("id") == "scorecard"]
    rows = [[("".join(cell.itertext())).strip() for cell in row] for row in section.iter(f"{XHTML}tr")][1:]
    # times count from the start of the drill: answered at minute 9, against minute 5 + 15 min allowed for a post
    assert [row for row in rows if "I1" in " ".join(row)] == [["✅", "I1 Social media post answered", "9 min", "20 min"]]
    assert [row for row in rows if "I2" in " ".join(row)][0][0] == "⏳"  # not arrived yet, still in time
    assert len(rows) >= 3 + 7  # roles, first statement, first update, and each of the 7 injects


def test_a_link_planted_in_the_reports_folder_is_never_written_through(chat, clock, tmp_path):
    scripted(chat, clock)
    secret = tmp_path / "secret.txt"
    secret.write_text("keep me", encoding="utf-8")
    folder = tmp_path / "reports"
    folder.mkdir()
    for name in ("report-1.md.part", "report-1.html.part", "report-1.md"):  # the old temporary names, and the final one
        (folder / name).symlink_to(secret)
    md, html = written(chat, clock, folder)
    assert secret.read_text(encoding="utf-8") == "keep me"
    assert not (folder / "report-1.md").is_symlink() and md.startswith("# ") and "<html" in html
    leftovers = sorted(p.name for p in folder.iterdir())
    assert leftovers == ["report-1.html", "report-1.html.part", "report-1.md", "report-1.md.part"]  # no temporary file left


def test_a_reports_folder_that_is_a_file_fails_the_report_once_and_for_good(chat, clock, tmp_path, caplog):
    blocker = tmp_path / "reports"
    blocker.write_text("not a folder", encoding="utf-8")
    room = scripted(chat, clock)
    assert chat.say("erin", "review", room).ok
    deliverer = Deliverer(chat.engine, chat.deps, ConsoleAdapter(_Out()), reports=blocker)
    with speaking("en"):
        asyncio.run(deliverer.deliver_pending())
        clock.advance(timedelta(days=1))  # long past any backoff: an effect still being retried would run again now
        asyncio.run(deliverer.deliver_pending())
    failures = [r.getMessage() for r in caplog.records if "report" in r.getMessage() and r.levelname == "ERROR"]
    assert len(failures) == 1 and failures[0].endswith(f"cannot write the report into {blocker}: a file stands where the folder should be")
    assert not [r for r in caplog.records if "will retry" in r.getMessage()]
    assert blocker.read_text(encoding="utf-8") == "not a folder" and "📄 Full report" not in deliverer.adapter.out.text


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any folder; the permission check needs an ordinary user")
def test_a_folder_without_write_permission_is_refused_with_a_clear_message(chat, clock, tmp_path):
    from bot.web.report_files import ReportNotWritten

    scripted(chat, clock)
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o500)
    with session(chat.engine) as db, pytest.raises(ReportNotWritten, match=f"cannot write the report into {folder}: permission denied"):
        write_report(db, chat.config, 1, clock.now(), folder)
    assert not list(folder.iterdir())
