"""The review report as a reader sees it, in headless Chromium, in English and Chinese: no word is split across lines
(the old `overflow-wrap: anywhere` cut "ackn/owle/dged"), the chart's marks carry their labels, and the page is drawn.

The check runs inside Chromium's own layout: a script marks every Latin word and clock time of the page's text whose
rendered box spans more than one line, and `--dump-dom` hands the result back. Set ONEVOICE_REPORT_SHOTS to a folder
to keep the full-page screenshots (report-en.png, report-zh.png).
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.web.report_files import write_report
from storage.db import session
from tests.bot.test_report_files import chromium, png_pixels
from tests.handlers.report_timeline import scripted

CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei")
MEASURE = """
<script>
(() => {
  const split = [], word = /[A-Za-z0-9\u2019']+(?::[0-9]{2})?/g;
  const cells = document.querySelectorAll("td, th, h1, h2, h3, p, li, figcaption, blockquote");
  for (const cell of cells) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const found of node.data.matchAll(word)) {
        const range = document.createRange();
        range.setStart(node, found.index);
        range.setEnd(node, found.index + found[0].length);
        const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (tops.size > 1) split.push(found[0]);
      }
    }
  }
  const broken = [...document.querySelectorAll("td.when, td.state")].filter(cell => {
    const range = document.createRange();
    range.selectNodeContents(cell);
    return new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top))).size > 1;
  }).map(cell => cell.textContent);
  const labels = [...document.querySelectorAll("svg.chart text.mark-label")].map(t => t.textContent);
  document.body.dataset.result = JSON.stringify({split, broken, labels, height: document.documentElement.scrollHeight});
})();
</script>
"""


def _chromium_or_skip() -> str:
    binary = chromium()
    if binary is None:
        pytest.skip("Chromium is not installed here (.ci/run installs Debian's chromium); the report's layout test needs it")
    return binary


def _run(binary: str, page: Path, width: int, height: int, *extra: str) -> subprocess.CompletedProcess:
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--window-size={width},{height}", *extra]
    env = {**os.environ, "HOME": str(page.parent)}
    return subprocess.run([*command, page.as_uri()], capture_output=True, timeout=120, env=env, text=True)


def measure(binary: str, html: str, folder: Path, width: int) -> dict:
    """Lay the page out at a width and report the split words, the chart's printed labels and the page height."""
    page = folder / f"measured-{width}.html"
    page.write_text(html.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    done = _run(binary, page, width, 1200, "--virtual-time-budget=5000", "--dump-dom")
    marker = 'data-result="'
    assert marker in done.stdout, done.stderr[-2000:]
    raw = done.stdout.split(marker, 1)[1].split('"', 1)[0]
    return json.loads(raw.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))


def report_html(chat, clock, folder: Path, language: str) -> str:
    room = scripted(chat, clock)
    assert chat.say("alice", "close --force The open items move to the recall plan", room).ok
    chat.config = chat.config.model_copy(update={"language": language})
    with session(chat.engine) as db:
        _md, html = write_report(db, chat.config, 1, clock.now(), folder)
    return html.read_text(encoding="utf-8")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_report_never_splits_a_word_and_labels_every_mark(chat, clock, tmp_path, language):
    binary = _chromium_or_skip()
    if language == "zh" and not _has_cjk_font():
        pytest.skip("no CJK font here (.ci/run installs fonts-noto-cjk): the Chinese report would render as empty boxes")
    html = report_html(chat, clock, tmp_path, language)
    for width in (1200, 700):  # a desktop window, and about the text width of an A4 page
        seen = measure(binary, html, tmp_path, width)
        assert seen["split"] == [], f"words split across lines at {width} px: {seen['split']}"
        assert seen["broken"] == [], f"times and states over two lines at {width} px: {seen['broken']}"
    assert len(seen["labels"]) >= 12 and ("v2 approved" in seen["labels"] or "v2 已批准" in seen["labels"])
    shot = tmp_path / f"report-{language}.png"
    done = _run(binary, tmp_path / "report-1.html", 1200, min(seen["height"] + 40, 12000), f"--screenshot={shot}")
    assert shot.exists(), done.stderr[-2000:]
    width, height, pixels = png_pixels(shot)
    assert width == 1200 and height > 2000 and len(set(pixels)) > 64
    if os.environ.get("ONEVOICE_REPORT_SHOTS"):
        shutil.copy(shot, Path(os.environ["ONEVOICE_REPORT_SHOTS"]) / shot.name)
        shutil.copy(tmp_path / "report-1.html", Path(os.environ["ONEVOICE_REPORT_SHOTS"]) / f"report-{language}.html")


def test_the_check_does_catch_a_word_split_mid_word(tmp_path):
    binary = _chromium_or_skip()
    cell = "<td style='overflow-wrap:anywhere'>acknowledged</td>"
    page = f"<!doctype html><html><body><table style='width:60px'><tr>{cell}</tr></table></body></html>"
    assert measure(binary, page, tmp_path, 400)["split"] == ["acknowledged"]
    narrow = "<!doctype html><html lang='zh'><body><table style='width:40px'><tr><td class='state'>已完成</td></tr></table></body></html>"
    assert measure(binary, narrow, tmp_path, 400)["broken"] == ["已完成"]


def _has_cjk_font() -> bool:
    listed = subprocess.run(["fc-list"], capture_output=True, text=True).stdout if shutil.which("fc-list") else ""
    return any(font in listed for font in CJK_FONTS)
