"""Text from outside is cleaned once, at the edge, and escaped wherever a platform renders it (issue 15, findings 7–10).

Incident #1 is product-quality sev2 declared by alice (commander, comms); bob holds legal, dave backs the commander.
"""

import io
import json
import unicodedata

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import select

from bot.console.front import render as console_render
from bot.outbox.effects import DELIVERIES, read
from bot.slack.delivery import SlackAdapter
from bot.slack.render import blocks, escape, mrkdwn, unescape
from bot.telegram.render import to_html
from bot.web.report_files import write_report
from handlers.core.cleaning import DISGUISING, INVISIBLE, MARKS
from handlers.core.effects import OpenRoom, Post
from handlers.core.ports import Command, RoomRef, UserRef
from handlers.incident.card import render_card
from handlers.line import vetting
from handlers.signals.intake import SignalIn, receive
from handlers.text.markup import Message
from storage.db import session
from storage.models import Incident, Outbox, Room, Signal
from tests.conftest import Chat, seeded
from tests.e2e.test_signals import LOUD, Instance, encoded
from tests.fakes.slack_api import FakeSlack

# An escape sequence clearing the screen, a window-title change ended by a bell, a right-to-left override and an
# isolate, a zero-width space and a soft hyphen inside words, a NUL, a direction mark.
DIRTY = "\x1b[2J\x1b]0;pwned\x07Recall \u202eevil\u202c \u2066iso\u2069 hid\u200bden soft\u00adhyphen \x00nul\u200f end"
CLEANED = "[2J]0;pwnedRecall evil iso hidden softhyphen nul end"


def assert_clean(rendered: str) -> None:
    """No control character but a newline, no bidi control, no invisible character."""
    bad = [ch for ch in rendered if ch in DISGUISING | INVISIBLE | MARKS or (unicodedata.category(ch) == "Cc" and ch not in "\n")]
    assert not bad, f"{bad!r} in {rendered!r}"


def every_rendering(message: Message) -> list[str]:
    """The message as Slack (fallback text and blocks), Telegram and the console show it."""
    return [mrkdwn(message), json.dumps(blocks(message), ensure_ascii=False), to_html(message), console_render(message)]


# ---- signals: every string field cleaned, every figure a finite JSON number


async def test_a_signal_with_control_bidi_and_invisible_characters_comes_out_clean_everywhere(tmp_path):
    dirty = {
        **LOUD,
        "title": DIRTY,
        "source": "brand\x00watch\u202e",
        "summary": f"first line\n{DIRTY}",
        "keywords": ["over\u200bheat\x1b", "Power\u00adMax"],
        "dedup_key": "pm20\x00-overheat",
    }
    async with Instance(tmp_path) as instance:
        status, answer = await instance.send(encoded(dirty))
        await instance.bot.deliver()
        declared = instance.bot.handle(Command(UserRef("console", "dave"), "declare --signal 1", RoomRef("console", "triage")))
        await instance.bot.deliver()
    assert status == 202 and answer["status"] == "new", answer
    printed = instance.out.getvalue()
    assert_clean(printed)
    assert f"📡 Signal 1 from brandwatch: {CLEANED}" in printed and "first line\n    " in printed  # the summary keeps its lines
    assert declared.ok and f"Declared #1 “{CLEANED}”" in declared.message.plain()
    assert f"room opened: #1 {CLEANED}" in printed
    with session(instance.bot.engine) as db:
        effects = [read(row, DELIVERIES) for row in db.exec(select(Outbox).order_by(Outbox.id))]
        markdown, page = write_report(db, instance.bot.config, 1, instance.bot.deps.clock.now(), tmp_path / "reports")
        card = render_card(db, instance.bot.config, db.get(Incident, 1), instance.bot.deps.clock.now())
    for effect in effects:
        if hasattr(effect, "message"):
            for shown in every_rendering(effect.message):
                assert_clean(shown)
    for shown in [*every_rendering(card), markdown.read_text(), page.read_text()]:
        assert_clean(shown)
    assert CLEANED in page.read_text()


@pytest.mark.parametrize("field", ["volume", "baseline", "sentiment"])
@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("Infinity", "must be a finite number"),
        ("-Infinity", "must be a finite number"),
        ("NaN", "must be a finite number"),
        ("1e999", "must be a finite number"),
        ('"1e3"', "must be a JSON number, not a string or true/false"),
        ("true", "must be a JSON number, not a string or true/false"),
    ],
)
async def test_a_non_finite_or_non_numeric_signal_figure_is_refused_and_nothing_is_stored(tmp_path, field, raw, problem):
    """Was: a volume of Infinity, 1e999, "1e3" or true was accepted and shown as "volume inf (nan×)"."""
    body = encoded({**LOUD, field: 0}).replace(f'"{field}": 0'.encode(), f'"{field}": {raw}'.encode())
    async with Instance(tmp_path) as instance:
        status, answer = await instance.send(body)
    assert status == 422 and answer["error"] == "not a signal", answer
    assert answer["problems"] == [{"field": field, "problem": f"Value error, {problem}"}]
    assert instance.rows(Signal) == 0 and instance.rows(Outbox) == 0


def test_a_nul_in_a_signal_title_source_or_dedup_key_is_stored_without_it(any_engine, config, clock):
    """Was: on PostgreSQL a NUL in these fields crashed the insert (a 500)."""
    incoming = SignalIn.model_validate({"source": "mon\x00itor", "title": "Battery\x00 fire", "dedup_key": "k\x001"})
    chat = Chat(any_engine, config, clock)
    with session(any_engine) as db:
        signal, new = receive(db, chat.deps, incoming)
        assert new and (signal.source, signal.title, signal.dedup_key) == ("monitor", "Battery fire", "k1")
    with session(any_engine) as db:
        again, new = receive(db, chat.deps, SignalIn.model_validate({"source": "monitor", "title": "Battery fire", "dedup_key": "k\x001"}))
        assert not new and again.count == 2  # the same key once cleaned: a repeat


def test_a_field_of_nothing_but_control_characters_is_refused():
    with pytest.raises(ValueError, match="title"):
        SignalIn.model_validate({"source": "monitor", "title": "\x00\x1b\u202e\u200b"})


# ---- typed commands: one cleaning step in the Command itself


def test_zero_width_characters_and_soft_hyphens_cannot_hide_words_from_vet(chat):
    """Was: `No c\\u200bomment` passed vet."""
    room = chat.declare()[1]
    checked = chat.say("alice", "vet We are sorry. No c\u200bomm\u00adent on v1. Next update at 11:00.", room).message.plain()
    assert "• “No comment”: “No comment”" in checked
    request = chat.say("alice", "draft We are sorry. No c\u200bomment on v1. Next update at 11:00.", room).message.plain()
    assert "We are sorry. No comment on v1. Next update at 11:00." in request and "• “No comment”: “No comment”" in request
    # Stored text as it came in (old rows, config): still matched, quoted as written.
    assert [f.quote for f in vetting.vet("No\u00a0c\u200bomment", chat.config.vet.values())[:1]] == ["No\u00a0c\u200bomment"]


def test_keywords_are_matched_in_their_full_width_forms_and_the_text_is_stored_as_typed(chat, tmp_path):
    room = chat.declare()[1]
    assert chat.say("alice", "resolve 全部解决", room).ok
    assert "(went well)" in chat.say("dave", "ｌｅｓｓｏｎ ＋ 监测（提前）发现：很好！", room).message.plain()
    with session(chat.engine) as db:
        _markdown, page = write_report(db, chat.config, 1, chat.clock.now(), tmp_path)
    assert "监测（提前）发现：很好！" in page.read_text()  # full-width punctuation kept: NFC, never NFKC


def test_a_zwj_emoji_keeps_its_joiner_and_a_stray_joiner_goes(chat):
    room = chat.declare()[1]
    assert chat.say("alice", "task Brief the 👩\u200d🚒 team and re\u200dcheck", room).ok
    assert "Brief the 👩\u200d🚒 team and recheck" in chat.say("alice", "tasks", room).message.plain()


# ---- escaping where a platform renders: the Slack topic, and drafts exactly as they will go out


async def test_a_title_with_slack_markup_reaches_the_topic_escaped(chat):
    """Was: `<!channel> <@U0ERIN> <https://evil.example|click>` reached conversations.setTopic raw."""
    title = "<!channel> <@U0ERIN> <https://evil.example|click> & co"
    reply = chat.say("alice", f"declare outage sev3 {title}")
    assert reply.ok, reply.message.plain()
    with session(chat.engine) as db:
        room = db.exec(select(Room).where(Room.incident_id == reply.incident_id)).one()
        card = render_card(db, chat.config, db.get(Incident, reply.incident_id), chat.clock.now())
    async with FakeSlack() as fake:
        adapter = SlackAdapter(AsyncWebClient(token=fake.token, base_url=fake.api_url))
        opened = await adapter.open_room(room, chat.effects(OpenRoom)[0], card)
        topic = fake.channels[opened["external_id"]]["topic"]
    assert topic == f"#{reply.incident_id} &lt;!channel&gt; &lt;@U0ERIN&gt; &lt;https://evil.example|click&gt; &amp; co"
    assert unescape(topic) == f"#{reply.incident_id} {title}"


def test_a_long_escaped_topic_stays_within_slacks_limit_without_a_broken_escape():
    from bot.slack.render import topic

    shown = topic("<" * 300)
    assert len(shown) <= 250 and shown == "&lt;" * 62


def test_approvers_see_a_draft_exactly_as_publish_sends_it(chat):
    """Was: `*`, `_`, `~` and backticks of a draft were rendered as Slack formatting while publish sent them literally."""
    room = chat.declare()[1]
    body = "We are *sorry*: _all_ ~units~ `PB-20` <!channel> & <b>co</b>. Next update at 11:00."
    chat.say("alice", f"draft {body}", room)
    request = next(post.message for post in chat.effects(Post) if "Draft v1" in post.message.plain())
    rich = [block for block in blocks(request) if block["type"] == "rich_text"]
    elements = rich[0]["elements"][0]["elements"]
    assert {"type": "text", "text": body} in elements  # no style, and rich text never reads mrkdwn or mentions in it
    assert escape(body) in to_html(request)  # HTML-escaped (the same three escapes), so Telegram shows it as typed
    assert "<b>co</b>" not in to_html(request) and "<b>Draft v1</b>" in to_html(request)
    assert f"\n{body}\n" in console_render(request)
    # What publish sends on Slack: the text with Slack's three escapes and mrkdwn off, which Slack shows as typed.
    assert unescape(escape(body)) == body


def test_history_and_line_show_the_statement_verbatim(chat):
    room = chat.declare()[1]
    body = "We are *sorry*. Next update at 11:00."
    chat.say("alice", f"draft {body}", room)
    assert chat.say("bob", "approve v1", room).ok and chat.say("dave", "approve v1", room).ok
    for verb in ("history", "line"):
        shown = chat.say("alice", verb, room).message
        assert [span.text for span in shown.spans if span.style == "verbatim"] == [body]
        assert {"type": "text", "text": body} in blocks(shown)[0]["elements"][0]["elements"]


def test_a_dirty_signal_title_never_reaches_the_public_page(tmp_path, config, clock):
    from bot.app import OneVoice
    from bot.web.page import render as render_page
    from config.settings import Settings

    bot = OneVoice(Settings(ONEVOICE_DATABASE_URL=seeded(f"sqlite:///{tmp_path / 'page.db'}")), config=config, clock=clock)
    chat = Chat(bot.engine, config, clock)
    with session(bot.engine) as db:
        receive(db, chat.deps, SignalIn.model_validate({**LOUD, "title": DIRTY}))
    assert chat.say("alice", "declare --signal 1").ok
    room = chat.room_of(1)
    for who, line in [("carol", "draft We are sorry.\u200b Next up\u00addate at 11:00."), ("bob", "approve"), ("alice", "approve")]:
        assert chat.say(who, line, room).ok, line
    assert chat.say("carol", "publish website", room).ok
    with session(bot.engine) as db:
        public_id = db.get(Incident, 1).public_id
    for kind in ("html", "json", "atom"):
        shown = render_page(bot, public_id, kind).body.decode()
        assert_clean(shown)
        assert "We are sorry. Next update at 11:00." in shown
    assert CLEANED not in render_page(bot, public_id, "json").body.decode()  # the signal's title never reaches the public page
    assert "Statement from Acme" in render_page(bot, public_id, "json").body.decode()  # its headline does
    bot.engine.dispose()


def test_a_long_draft_is_shown_whole_in_rich_text_pieces_slack_accepts():
    from handlers.text.markup import lines, text, verbatim

    body = "*" + "x" * 2500 + "*"
    elements = blocks(lines(text("Draft v1"), verbatim(body)))[0]["elements"][0]["elements"]
    assert all(len(e["text"]) <= 1000 for e in elements) and "".join(e["text"] for e in elements) == "Draft v1\n" + body


def test_a_platform_display_name_is_cleaned_and_old_stored_text_never_reaches_the_terminal_raw():
    assert UserRef("telegram", "7", "\u202eevil\x00 na\u200bme\n").display == "evil name "
    shown = io.StringIO()
    from bot.console.front import ConsoleAdapter
    from handlers.text.markup import text

    ConsoleAdapter(shown).show("#room", text("stored before cleaning: \x1b[2J\x1b]0;pwned\x07 \u202eend"))
    assert_clean(shown.getvalue())
    assert "stored before cleaning: [2J]0;pwned end" in shown.getvalue()
