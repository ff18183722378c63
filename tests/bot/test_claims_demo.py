"""The demo (en and zh) exercises a rumour that must be rebutted: logged, verified false, answered with v3, published."""

import asyncio
import io

import pytest

from bot.console.demo import run_demo

EXPECTED = {
    "en": [
        "🗣 C1 logged by Dave Zhang: “PowerMax 20 power banks explode when left charging overnight”",
        "🔎 C1 verified false by Bob Li.",
        "🛡 C1 answered with v3 by Carol Wang.",
        "C1 [false] “PowerMax 20 power banks explode when left charging overnight” — reach 45,000; "
        "answered with v3, published on newsroom, announcements, website",
        "| C1 |",
    ],
    "zh": [
        "🗣 C1 由 Dave Zhang 登记：“网传PowerMax 20充电宝夜间充电会爆炸”",
        "🔎 C1 经 Bob Li 核实为不实。",
        "🛡 C1 已由 Carol Wang 用 v3 回应。",
        "C1 [不实] “网传PowerMax 20充电宝夜间充电会爆炸” — 触达 45,000；已用 v3 回应，发布于 newsroom, announcements, website",
    ],
}


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_demo_rebuts_a_rumour(language, tmp_path):
    out = io.StringIO()
    assert asyncio.run(run_demo(language, out, tmp_path)) == 0
    printed = out.getvalue()
    for line in EXPECTED[language]:
        if line.startswith("|"):
            report = (tmp_path / "reports" / "report-1.md").read_text(encoding="utf-8")
            assert "## Claims" in report and line in report
        else:
            assert line in printed, line
