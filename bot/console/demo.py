"""`onevoice demo`: a complete scripted crisis on the console, on a fast clock."""

import io
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from bot.app import OneVoice
from bot.console.front import Console
from config.durations import parse_duration
from config.load import load_config
from config.settings import Settings
from handlers.core.ports import FakeClock
from handlers.text.i18n import _, speaking

# (speaker, line) pairs; speaker "wait" moves the fast clock instead.
SCRIPT = {
    "en": [
        ("alice", "/crisis declare product-quality sev2 Power banks overheating while charging"),
        ("bob", "/crisis ack"),
        ("carol", "/crisis ack"),
        ("dave", "/crisis ack"),
        ("erin", "/crisis ack"),
        ("alice", "/crisis ack"),
        ("dave", "/crisis note Mentions up sixfold in an hour; three videos show units smoking while charging"),
        ("dave", "/crisis done 1"),
        ("alice", "/crisis phase assessing"),
        ("alice", "/crisis task Pull the production records for the affected lots @erin in 30m"),
        ("wait", "20m"),
        ("alice", "/crisis done 2"),
        ("alice", "/crisis update Affected units narrowed to one lot; stop-sale under way in all channels"),
        ("alice", "/crisis phase responding"),
        ("alice", "/crisis sev 1"),
        ("bob", "/crisis ack"),
        ("alice", "/crisis handoff comms @carol"),
        ("carol", "/crisis ack"),
        ("bob", "/crisis skip 9 Regulator already informed by phone; written report filed under item 10"),
        ("carol", "/crisis tasks mine"),
        ("carol", "/crisis template holding"),
        (
            "carol",
            "/crisis draft We are aware of reports that PowerMax 20 power banks overheat while charging, and we are sorry for the worry "
            "this has caused. The cause is probably a faulty cell from one supplier. Our next update will be at 10:30 Beijing time on our "
            "official website.",
        ),
        ("bob", "/crisis reject v1 Do not speculate about the cause or name a supplier before the lab confirms it"),
        (
            "carol",
            "/crisis draft We are aware of reports that some of our power banks overheat while charging, and we are sorry for the "
            "worry this has caused. We have stopped selling the affected lot in all channels while we investigate. Please stop "
            "charging any power bank that feels hot and contact our customer service team. Our next update will be at 10:30 Beijing time "
            "on our official website.",
        ),
        ("bob", "/crisis approve"),
        ("alice", "/crisis approve"),
        ("carol", "/crisis publish"),
        ("carol", "/crisis published weibo https://weibo.com/onevoice/5001"),
        (
            "dave",
            "/crisis inquiry Caixin in 30m email desk@caixin.example Which lots are affected, and is the recall national?",
        ),
        ("carol", "/crisis notify regulators"),
        ("carol", "/crisis notified regulators provincial Duty officer confirmed receipt by phone"),
        ("carol", "/crisis answer q1"),
        ("erin", "/crisis stakeholders"),
        ("erin", "/crisis line"),
        ("dave", "/crisis claim PowerMax 20 power banks explode when left charging overnight https://weibo.com/rumour/77 reach 45k"),
        ("bob", "/crisis verify c1 false No unit of the affected lot has caught fire; the lab sees overheating only"),
        (
            "carol",
            "/crisis draft rebuttal None of our power banks has exploded: no unit of the affected lot has caught fire, and lab "
            "tests show overheating only. Please stop charging any power bank that feels hot and contact our customer service "
            "team. Our next update will be at 10:30 Beijing time on our official website.",
        ),
        ("bob", "/crisis approve"),
        ("alice", "/crisis approve"),
        ("carol", "/crisis rebut c1"),
        ("carol", "/crisis publish"),
        ("erin", "/crisis claims"),
        ("wait", "40m"),
        ("alice", "/crisis phase recovering"),
        ("alice", "/crisis resolve Stop-sale complete; recall and refunds announced"),
        ("dave", "/crisis lesson + Social listening caught the videos within the hour"),
        ("carol", "/crisis lesson - The first draft speculated about the cause; review the wording before sending"),
        ("alice", "/crisis action Add a battery-temperature test to incoming inspection @erin due in 14d"),
        ("alice", "/crisis actions"),
        ("erin", "/crisis review"),
        ("alice", "/crisis close"),
        ("alice", "/crisis close --force The remaining items move to the recall plan"),
        ("alice", "/crisis list"),
    ],
    "zh": [
        ("alice", "/crisis declare product-quality sev2 移动电源充电发热投诉"),
        ("bob", "/crisis ack"),
        ("carol", "/crisis ack"),
        ("dave", "/crisis ack"),
        ("erin", "/crisis ack"),
        ("alice", "/crisis ack"),
        ("dave", "/crisis note 一小时内相关提及增长六倍；三段视频显示充电时冒烟"),
        ("dave", "/crisis done 1"),
        ("alice", "/crisis phase assessing"),
        ("alice", "/crisis task 调取涉事批次的生产记录 @erin in 30m"),
        ("wait", "20m"),
        ("alice", "/crisis done 2"),
        ("alice", "/crisis update 涉事产品已锁定为单一批次；各渠道正在停售"),
        ("alice", "/crisis phase responding"),
        ("alice", "/crisis sev 1"),
        ("bob", "/crisis ack"),
        ("alice", "/crisis handoff comms @carol"),
        ("carol", "/crisis ack"),
        ("bob", "/crisis skip 9 已电话告知监管部门，书面报告见第 10 项"),
        ("carol", "/crisis tasks mine"),
        ("carol", "/crisis template holding"),
        (
            "carol",
            "/crisis draft 我们已关注到部分移动电源充电发热的反馈，对由此带来的担忧深表歉意。初步估计是某供应商的电芯问题。"
            "我们将于10:30在官方网站发布最新进展。",
        ),
        ("bob", "/crisis reject v1 检测结果出来之前，不要猜测原因，也不要点名供应商"),
        (
            "carol",
            "/crisis draft 我们已关注到部分移动电源充电发热的反馈，对由此带来的担忧深表歉意。涉事批次已在各渠道暂停销售，"
            "我们正在全面核查。如您的移动电源充电时明显发热，请立即停止使用并联系客服。我们将于10:30在官方网站发布最新进展。",
        ),
        ("bob", "/crisis approve"),
        ("alice", "/crisis approve"),
        ("carol", "/crisis publish"),
        ("carol", "/crisis published weibo https://weibo.com/onevoice/5001"),
        ("dave", "/crisis inquiry 财新 in 30m email desk@caixin.example 记者来电：哪些批次受影响？召回是否覆盖全国？"),
        ("carol", "/crisis notify regulators"),
        ("carol", "/crisis notified regulators provincial 值班人员电话确认已收到"),
        ("carol", "/crisis answer q1"),
        ("erin", "/crisis stakeholders"),
        ("erin", "/crisis line"),
        ("dave", "/crisis claim 网传PowerMax 20充电宝夜间充电会爆炸 https://weibo.com/rumour/77 reach 45k"),
        ("bob", "/crisis verify c1 false 涉事批次没有任何一台起火；实验室检测仅见发热"),
        (
            "carol",
            "/crisis draft rebuttal 我们的移动电源没有发生爆炸：涉事批次没有任何一台起火，实验室检测显示仅有发热现象。"
            "如您的移动电源充电时明显发热，请立即停止使用并联系客服。我们将于10:30在官方网站发布最新进展。",
        ),
        ("bob", "/crisis approve"),
        ("alice", "/crisis approve"),
        ("carol", "/crisis rebut c1"),
        ("carol", "/crisis publish"),
        ("erin", "/crisis claims"),
        ("wait", "40m"),
        ("alice", "/crisis phase recovering"),
        ("alice", "/crisis resolve 停售完成；已宣布召回和退款"),
        ("dave", "/crisis lesson + 舆情监测在一小时内发现了相关视频"),
        ("carol", "/crisis lesson - 初稿对原因进行了猜测；发送前先审查"),
        ("alice", "/crisis action 在来料检验中增加电池温度测试 @erin due in 14d"),
        ("alice", "/crisis actions"),
        ("erin", "/crisis review"),
        ("alice", "/crisis close"),
        ("alice", "/crisis close --force 其余事项转入召回计划"),
        ("alice", "/crisis list"),
    ],
}


async def _pass_time(bot: OneVoice, clock: FakeClock, span: timedelta) -> None:
    """Move the fast clock minute by minute, firing reminders as they fall due."""
    for _minute in range(int(span.total_seconds() // 60)):
        clock.advance(timedelta(minutes=1))
        await bot.tick()


async def run_demo(language: str = "en", out: TextIO | None = None, folder: Path | None = None) -> int:
    """Play the script on a temporary SQLite database and a fast clock."""
    out = out or io.StringIO()
    folder = folder or Path(tempfile.mkdtemp(prefix="onevoice-demo-"))
    config = load_config(None).model_copy(update={"language": language})
    clock = FakeClock()
    bot = OneVoice(Settings(ONEVOICE_DATABASE_URL=f"sqlite:///{folder / 'onevoice.db'}"), config=config, clock=clock)
    console = Console(bot, "alice", out)
    with speaking(language):
        out.write(
            _("OneVoice demo — a product-quality crisis, on a fast clock. Database: {path}").format(path=folder / "onevoice.db") + "\n\n"
        )
    for speaker, line in SCRIPT[language]:
        if speaker == "wait":
            with speaking(language):
                out.write("\n" + _("… {duration} later …").format(duration=line) + "\n\n")
                await _pass_time(bot, clock, parse_duration(line))
            continue
        clock.advance(timedelta(minutes=1))
        with speaking(language):
            await bot.tick()  # reminders due by now fire before the next person types
        console.speaker = speaker
        out.write(f"{console.prompt()}{line}\n")
        await console.run_line(line)
    with speaking(language):
        out.write("\n" + _("Demo finished. The whole incident is in {path}").format(path=folder / "onevoice.db") + "\n")
        out.write(_("Review report: {path}").format(path=bot.reports / "report-1.html") + "\n")
    return 0
