"""The newer outside text fields come out clean in every rendering (issue 15, "What it must show"): claims and their
verdicts, press inquiries, stakeholder notes, signals attached and detached, a headline, the e-mail subjects and
bodies, the webhook JSON, the review report and the public page; a field typed with control or bidi characters is
refused and changes nothing. Also: the invisible characters vet's normalisation reads past are dropped at the edge
too (Mongolian vowel separator, invisible operators, stray tag characters), while a subdivision flag keeps its tags.

#1 is product-quality sev1 declared by alice at 09:00 on 2026-03-02 (carol spokesperson, bob legal, erin liaison).
"""

import json
import unicodedata
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.console.front import render as console_render
from bot.outbox.effects import DELIVERIES, read
from bot.slack.render import blocks, mrkdwn
from bot.telegram.render import to_html
from bot.web.page import RENDERERS, page_for
from bot.web.report_files import write_report
from config.model import BroadcastTarget
from handlers.core.cleaning import DISGUISING, INVISIBLE, MARKS
from handlers.core.effects import Mail
from handlers.incident.card import render_card
from handlers.line.outlets import webhook_body
from handlers.signals.intake import SignalIn, receive
from storage.db import session
from storage.models import Incident, Outbox, Publication
from tests.handlers.desk_chat import TEAM

# Drawn as nothing, so they would split a word for the eye only: each goes at the edge, wherever it was typed.
HIDDEN = "\u200b\u00ad\u180e\u2062\u206a\U000e0041\U000e0001"
DIRTY_SIGNAL = "\x1b[2J\x1b]0;pwned\x07Power\u180eMax \u202eovert\u202c hid\u200bden\U000e0041 smoke"
SIGNAL_SHOWN = "[2J]0;pwnedPowerMax overt hidden smoke"
FLAG = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"  # Scotland's flag: tags that draw


def hide(words: str) -> str:
    """The words with an invisible character after every letter's second place."""
    return "".join(char + (HIDDEN[index % len(HIDDEN)] if index % 2 and char.isalpha() else "") for index, char in enumerate(words))


def assert_clean(shown: str) -> None:
    """No control character but a newline, no bidi control, nothing invisible (no flag is shown here)."""
    bad = [
        ch
        for ch in shown
        if ch in DISGUISING | INVISIBLE | MARKS or (unicodedata.category(ch) == "Cc" and ch not in "\n") or 0xE0000 <= ord(ch) <= 0xE007F
    ]
    assert not bad, f"{bad!r} in {shown[:300]!r}"


def every_rendering(message) -> list[str]:
    """A message as Slack (fallback text and blocks), Telegram and the console show it."""
    return [mrkdwn(message), json.dumps(blocks(message), ensure_ascii=False), to_html(message), console_render(message)]


@pytest.fixture
def desk(chat, clock):
    """Incident #1 at sev1, every role acknowledged, a CMS webhook target, and a dirty signal in triage."""
    chat.config.broadcast.append(BroadcastTarget(name="cms", webhook="http://127.0.0.1:9/hooks", secret_env="CMS_WEBHOOK_SECRET"))
    chat.deps.channels.add("webhook")
    with session(chat.engine) as db:
        signal = {"source": "brand\u2062watch", "title": DIRTY_SIGNAL, "volume": 900, "baseline": 300}
        receive(db, chat.deps, SignalIn.model_validate(signal))
    _incident, room = chat.declare(line="declare product-quality sev1 Battery overheating")
    for person in TEAM:
        assert chat.say(person, "ack", room).ok
    clock.advance(timedelta(minutes=5))
    return chat, room


def test_every_newer_field_typed_with_invisible_characters_comes_out_clean_everywhere(desk, tmp_path):
    chat, room = desk
    lines = [
        ("carol", f"draft holding {hide('PowerMax recall')} | {hide('We are sorry about the PowerMax units.')} Next update at 11:00."),
        ("bob", "approve"),
        ("alice", "approve"),
        ("dave", f"claim {hide('PowerMax units explode overnight')} https://weibo.example/p/1 reach 3k"),
        ("alice", f"verify c1 false {hide('Lab found no fire')}"),
        ("carol", "rebut c1"),
        ("dave", f"inquiry {hide('Reuters')} in 2h email desk@reuters.example {hide('Which stores take returns?')}"),
        ("carol", "answer q1"),
        ("dave", f"inquiry Caixin {hide('Is the recall real?')}"),
        ("carol", f"answer q2 declined {hide('Lab results pending')}"),
        ("erin", "notify regulators"),
        ("erin", f"notified regulators provincial office {hide('Called back at ten')}"),
        ("dave", "attach 1"),
        ("dave", "detach 1"),
        ("carol", "publish website cms"),
    ]
    shown = []
    for who, line in lines:
        reply = chat.say(who, line, room)
        assert reply.ok, (line, reply.message.plain())
        shown.append(reply.message)
    shown += [chat.say("alice", verb, room).message for verb in ("claims", "inquiries", "stakeholders", "reaction", "line", "history")]
    with session(chat.engine) as db:
        effects = [read(row, DELIVERIES) for row in db.exec(select(Outbox).order_by(Outbox.id))]
        card = render_card(db, chat.config, db.get_one(Incident, 1), chat.clock.now())
        cms = db.exec(select(Publication).where(Publication.target == "cms")).one()
        hook = webhook_body(db, chat.config, cms.id, "https://status.example").decode()
        markdown, page = write_report(db, chat.config, 1, chat.clock.now(), tmp_path)
    mails = [effect for effect in effects if isinstance(effect, Mail)]
    assert mails and all(mail.subject == "PowerMax recall" for mail in mails)
    texts = [rendered for message in [*shown, card] for rendered in every_rendering(message)]
    texts += [rendered for effect in effects if hasattr(effect, "message") for rendered in every_rendering(effect.message)]
    texts += [field for mail in mails for field in (mail.subject, mail.body, mail.to)]
    texts += [hook, markdown.read_text(encoding="utf-8"), page.read_text(encoding="utf-8")]
    texts += render_page_of(chat)
    for text in texts:
        assert_clean(text)
    everything = "\n".join(texts)
    for words in ("PowerMax units explode overnight", "Lab found no fire", "Which stores take returns?", "Lab results pending"):
        assert words in everything, words
    assert "Called back at ten" in everything and "Reuters" in everything and SIGNAL_SHOWN in everything
    assert json.loads(hook)["headline"] == "PowerMax recall"
    assert json.loads(hook)["text"] == "We are sorry about the PowerMax units. Next update at 11:00."


def render_page_of(chat) -> list[str]:
    """The public page of #1 in each of its forms, as `GET /s/<id>` renders them."""
    with session(chat.engine) as db:
        page = page_for(db, chat.config, db.get_one(Incident, 1).public_id or "")
    assert page is not None
    return [RENDERERS[kind](chat.config, page) for kind in ("html", "json", "atom")]


@pytest.mark.parametrize(
    ("who", "line"),
    [
        ("dave", "claim Power\x1b]0;pwned\x07Max units explode"),
        ("alice", "verify c1 false \u202eerif on dnuof baL"),
        ("dave", "inquiry Reu\x1b[2Jters Which stores?"),
        ("carol", "answer q1 declined \u2066pending\u2069"),
        ("erin", "notified regulators provincial office \x07called"),
        ("carol", "draft holding Power\u202eMax | We are sorry. Next update at 11:00."),
    ],
)
def test_a_newer_field_typed_with_control_or_bidi_characters_is_refused_and_changes_nothing(desk, who, line):
    chat, room = desk
    assert chat.say("dave", "claim PowerMax units explode", room).ok and chat.say("dave", "inquiry Caixin Is it real?", room).ok
    before = chat.snapshot()
    reply = chat.say(who, line, room)
    assert not reply.ok and "control" in reply.message.plain(), reply.message.plain()
    assert chat.snapshot() == before


def test_the_edge_drops_what_vet_reads_past_and_keeps_a_flags_tags(chat, room):
    assert chat.say("alice", f"task Call {hide('the regulator')} {FLAG} now", room).ok
    listing = chat.say("alice", "tasks", room).message.plain()
    assert f"Call the regulator {FLAG} now" in listing
