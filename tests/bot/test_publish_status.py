"""Publish status told once and true (issue 21): one target of each status, and `publish`, `line`, the card and the
report say the same word for each — computed in one place (handlers/line/standing.py) from the publication and its
outbox row. The bot runs on the console platform only here, so a Slack-only target is not connected."""

from bot.outbox.adapter import RetryLater, Undeliverable
from bot.outbox.worker import Deliverer
from config.model import BroadcastTarget
from tests.bot.test_delivery import FlakyChat
from tests.bot.test_report_files import written

EXPECTED = {
    "ok": "sent",
    "flaky": "waiting (retrying)",
    "gone": "failed",
    "newsroom": "not connected here",
    "website": "sent",
    "weibo": "to post by hand",
}


class ThreeChannels(FlakyChat):
    """`ok` takes the post, `flaky` answers 429 every time, `gone` no longer exists."""

    async def publish(self, to, text):
        if to == "flaky":
            raise RetryLater("429 Too Many Requests", after=30)
        if to == "gone":
            raise Undeliverable("channel_not_found")
        return await self._record("publish", (to, text))


def said_per_target(message: str) -> dict[str, str]:
    """{target: status} from a 'Targets: a: sent 03-02 09:00 · b: failed' line."""
    [listed] = [line for line in message.splitlines() if line.strip().startswith("Targets: ")]
    found = {}
    for part in listed.strip().removeprefix("Targets: ").split(" · "):
        target, status = part.split(": ", 1)
        found[target] = "sent" if status.startswith("sent ") else status  # the word, without when it went and its link
    return found


async def test_publish_line_card_and_report_agree_on_each_targets_status(chat, clock, tmp_path):
    chat.config.broadcast = [
        BroadcastTarget(name="ok", console="ok"),
        BroadcastTarget(name="flaky", console="flaky"),
        BroadcastTarget(name="gone", console="gone"),
        BroadcastTarget(name="newsroom", slack="C0NEWS"),
        BroadcastTarget(name="website", page=True),
        BroadcastTarget(name="weibo", manual=True),
    ]
    adapter = ThreeChannels()
    chat.declare()
    deliverer = Deliverer(chat.engine, chat.deps, adapter)
    await deliverer.deliver_pending()
    room = "C123"
    assert chat.say("carol", "draft We are sorry for the worry. Next update at 11:00 on our website.", room).ok
    assert chat.say("bob", "approve", room).ok and chat.say("alice", "approve", room).ok
    assert chat.say("carol", "publish ok flaky gone", room).ok
    await deliverer.deliver_pending()  # ok is posted, flaky is told to wait, gone is refused for good
    published = chat.say("carol", "publish website newsroom weibo", room)
    assert published.ok, published.message.plain()

    surfaces = {
        "publish": said_per_target(published.message.plain()),
        "line": said_per_target(chat.say("erin", "line", room).message.plain()),
        "card": said_per_target(chat.say("erin", "status", room).message.plain()),
    }
    assert surfaces == {"publish": EXPECTED, "line": EXPECTED, "card": EXPECTED}

    markdown, html = written(chat, clock, tmp_path)
    for target, status in EXPECTED.items():
        word = status.removesuffix(" (retrying)")  # the report is history: waiting, whether or not it was retried
        for report in (markdown, html):
            said = report.split(f"{target} (", 1)[1].split(")")[0]  # the target's entry: its outlet, status, time
            assert word in said and (word == "sent" or "sent" not in said), (target, said)  # never "sent" for what did not go
    assert chat.say("carol", "published weibo https://weibo.com/brand/1", room).ok  # posted by hand, then recorded
    assert said_per_target(chat.say("erin", "line", room).message.plain())["weibo"] == "sent"


async def test_a_target_not_connected_here_is_not_shown_as_sent_by_its_console_twin(chat):
    """The issue's case: the starter's newsroom posts to Slack and to the console; only the console is connected."""
    adapter = FlakyChat()
    chat.declare()
    await Deliverer(chat.engine, chat.deps, adapter).deliver_pending()
    room = "C123"
    assert chat.say("carol", "draft We are sorry for the worry. Next update at 11:00 on our website.", room).ok
    assert chat.say("bob", "approve", room).ok and chat.say("alice", "approve", room).ok
    published = chat.say("carol", "publish newsroom", room).message.plain()
    await Deliverer(chat.engine, chat.deps, adapter).deliver_pending()
    line = chat.say("erin", "line", room).message.plain()
    assert said_per_target(published)["newsroom"] == "not connected here (Slack), waiting (console)"
    newsroom = said_per_target(line)["newsroom"]
    assert newsroom.startswith("not connected here (Slack), sent ") and newsroom.endswith(" (console)")
    assert "✓" not in line


async def test_a_chinese_team_reads_the_same_statuses_in_chinese(engine, config, clock):
    from tests.conftest import Chat

    config.language = "zh"
    chat = Chat(engine, config, clock)
    adapter = FlakyChat()
    chat.declare()
    await Deliverer(chat.engine, chat.deps, adapter).deliver_pending()
    room = "C123"
    assert chat.say("carol", "draft 我们深表歉意。下一次通报将于11:00在官网发布。", room).ok
    assert chat.say("bob", "approve", room).ok and chat.say("alice", "approve", room).ok
    published = chat.say("carol", "publish", room).message.plain()
    line = chat.say("erin", "line", room).message.plain()
    for said in (published, line):
        assert "发布渠道：" in said and "newsroom：本处未连接该平台（Slack）" in said and "weibo：待人工发布" in said
    assert "#1 已有公开页面，但没有公开地址" in published
