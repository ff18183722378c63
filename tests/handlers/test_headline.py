"""The public headline of each version (PRODUCT.md §4): set with the draft, else the team's `statement_headline`,
approved with the text, shown to the team, and the internal incident title never in public words.

Incident #1 is declared by alice with a distinctive internal title; carol drafts, bob (legal) and alice approve.
"""

import pytest

from config.model import Localized
from handlers.text.i18n import _, speaking
from tests.conftest import Chat

SECRET_TITLE = "Leaked-signal PB20 fire rumour Weibo thread"
TEXT = "We are sorry for the worry. Lots 2 and 3 are off sale while we check them. Next update at 11:00 on our website."


@pytest.fixture
def room(chat) -> str:
    return chat.declare(line=f"declare product-quality sev2 {SECRET_TITLE}")[1]


def approve(chat: Chat, room: str, version: int) -> str:
    assert chat.say("bob", f"approve v{version}", room).ok
    reply = chat.say("alice", f"approve v{version}", room)
    assert reply.ok, reply.message.plain()
    return reply.message.plain()


def test_a_headline_before_the_bar_is_shown_to_the_approvers_and_on_the_line(chat, room):
    request = chat.say("carol", f"draft holding Power bank lots 2 and 3 off sale | {TEXT}", room)
    assert request.ok, request.message.plain()
    assert "Public headline: Power bank lots 2 and 3 off sale" in request.message.plain()
    assert TEXT in request.message.plain().splitlines()  # the text, whole, without the headline
    approve(chat, room, 1)
    line = chat.say("erin", "line", room).message.plain()
    assert "Public headline: Power bank lots 2 and 3 off sale" in line and TEXT in line.splitlines()


def test_without_a_headline_the_teams_statement_headline_is_approved_with_the_text(chat, room):
    assert chat.say("carol", f"draft {TEXT}", room).ok
    approve(chat, room, 1)
    chat.config.statement_headline = Localized(en="Changed later", zh="后来改的")  # the approved headline does not follow
    assert "Public headline: Statement from Acme" in chat.say("erin", "line", room).message.plain()


def test_a_new_headline_is_a_new_version_and_history_shows_the_change(chat, room):
    assert chat.say("carol", f"draft First headline | {TEXT}", room).ok
    approve(chat, room, 1)
    assert chat.say("carol", f"draft Second headline | {TEXT}", room).ok
    assert "Public headline: First headline" in chat.say("erin", "line", room).message.plain()  # v2 waits for approval
    approve(chat, room, 2)
    assert "Public headline: Second headline" in chat.say("erin", "line", room).message.plain()
    history = chat.say("erin", "history", room).message.plain()
    assert history.index("First headline") < history.index("Second headline")


@pytest.mark.parametrize(
    "text",
    [
        "Call us. " * 16 + "Hotline 400-800-1234 | email care@acme.example. " + TEXT,  # a bar 128 characters in: not a headline
        TEXT + "\nLot | Status\n2 | off sale",  # a table further down
    ],
)
def test_a_bar_that_is_not_a_headline_leaves_the_text_whole(chat, room, text):
    assert chat.say("carol", f"draft {text}", room).ok
    approve(chat, room, 1)
    line = chat.say("erin", "line", room).message.plain()
    assert "Public headline: Statement from Acme" in line and all(part in line.splitlines() for part in text.splitlines())


def test_a_headline_with_no_text_is_refused_and_changes_nothing(chat, room):
    before = chat.snapshot()
    reply = chat.say("carol", "draft Only a headline |", room)
    assert not reply.ok and "Write the proposed statement" in reply.message.plain()
    assert chat.snapshot() == before


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("kind", ["holding", "apology", "update", "clarification"])
@pytest.mark.parametrize("playbook", ["product-quality", "emergency", "attack", "sensitive-topic", "outage"])
def test_templates_never_paste_the_internal_title(engine, config, clock, language, kind, playbook):
    config.language = language
    chat = Chat(engine, config, clock)
    _id, room = chat.declare(line=f"declare {playbook} sev2 {SECRET_TITLE}")
    reply = chat.say("dave", f"template {kind}", room)
    assert reply.ok, reply.message.plain()
    filled = reply.message.plain()
    assert "PB20" not in filled and "{" not in filled
    with speaking(language):
        assert config.playbooks[playbook].public_subject.get(language) in filled


def test_a_playbook_without_public_words_names_the_matter_generically(chat, config):
    config.playbooks["outage"].public_subject = None
    _id, room = chat.declare(line=f"declare outage sev2 {SECRET_TITLE}")
    filled = chat.say("dave", "template holding", room).message.plain()
    assert "this matter" in filled and "PB20" not in filled


def test_the_chinese_team_sees_the_headline_in_chinese(engine, config, clock):
    config.language = "zh"
    chat = Chat(engine, config, clock)
    _id, room = chat.declare(line=f"declare product-quality sev2 {SECRET_TITLE}")
    reply = chat.say("carol", "draft 我们深表歉意。下一次通报将于11:00在官网发布。", room)
    with speaking("zh"):
        label = _("Public headline: **{headline}**").split("**")[0]
    assert label == "对外标题：" and "对外标题：Acme 声明" in reply.message.plain()


def test_the_headline_is_vetted_with_the_text(chat, room):
    request = chat.say("carol", f"draft Probably a charger fault, no comment | {TEXT}", room).message.plain()
    assert "“Probably”" in request and "“no comment”" in request
    clean = chat.say("carol", f"draft Lots 2 and 3 off sale | {TEXT}", room).message.plain()
    assert "“Lots" not in clean and "Probably" not in clean


def test_a_page_published_before_the_address_was_set_gets_it_when_published_again(chat, room):
    assert chat.say("carol", f"draft {TEXT}", room).ok
    approve(chat, room, 1)
    first = chat.say("carol", "publish website", room).message.plain()
    assert "has a public page but no public address" in first and "/s/" not in first
    chat.deps.public_url = "https://status.acme.example"  # set, and the bot restarted
    again = chat.say("carol", "publish website", room)
    assert again.ok, again.message.plain()
    told = again.message.plain()
    assert "The public page of #1 is at https://status.acme.example/s/" in told
    assert "Public page: https://status.acme.example/s/" in chat.say("erin", "line", room).message.plain()
    assert not chat.say("carol", "publish website", room).ok  # now truly nothing new: already carried, address known
