"""E-mail attacked: header injection through the headline, addresses no mail can carry, the SMTP password kept out of
every log and message, a refusal outside any incident, a whole list refused, a failed target published again, and the
running bot's own mail channel."""

import asyncio
import logging
from datetime import timedelta

import pytest
from aiosmtpd.smtp import SMTP as SmtpServer

from bot.outbox.mail import MailChannel, Server, server_of
from bot.outbox.worker import Deliverer
from config.model import BroadcastTarget, RoomHandles
from handlers.core.context import queue
from handlers.core.effects import Mail
from handlers.line import headline as headlines
from storage.db import session
from tests.bot import test_mail as core
from tests.bot.test_delivery import FlakyChat
from tests.bot.test_mail import APPROVED, SENDER, Mailbox, mail_worker, told
from tests.bot.test_publish import approved_line
from tests.conftest import seeded

mailbox, desk = core.mailbox, core.desk  # the fixtures of the core e-mail tests: the SMTP server, the chat with its target


async def test_a_headline_with_a_line_break_cannot_add_a_header_or_a_recipient(desk, mailbox, monkeypatch):
    monkeypatch.setattr(headlines, "headline_of", lambda statement, config: "Recall\r\nBcc: victim@evil.example\nX: y")
    desk.config.broadcast[-1] = BroadcastTarget(name="press-release", email=["desk@a.example"])
    room = await approved_line(desk, FlakyChat(), APPROVED)
    assert desk.say("carol", "publish press-release", room).ok
    await mail_worker(desk, mailbox).deliver_pending()
    [(recipients, message)] = mailbox.received
    assert recipients == ["desk@a.example"] and message["Bcc"] is None and message["X"] is None
    assert message["Subject"] == "Recall Bcc: victim@evil.example X: y"


async def test_a_mail_queued_outside_an_incident_and_refused_is_told_in_the_triage_room(chat, mailbox, config):
    config.triage_room = RoomHandles(console="triage")
    mailbox.refuse["gone@b.example"] = "550 5.1.1 Gone"
    with session(chat.engine) as db:
        queue(db, None, "mail", Mail(to="gone@b.example", subject="Regulator notice", body="Text"), chat.clock.now())
        queue(db, None, "mail", Mail(to="desk@a.example", subject="Regulator notice", body="Text\r\nwith CRLF\n.\n"), chat.clock.now())
        db.commit()
    await mail_worker(chat, mailbox).deliver_pending()
    [(recipients, message)] = mailbox.received
    assert recipients == ["desk@a.example"] and message.get_payload(decode=True) == b"Text\r\nwith CRLF\n.\n"
    posts = await told(chat, FlakyChat())
    assert [p for p in posts if "The e-mail to gone@b.example was not delivered (refused: 550 5.1.1 Gone)" in p]


def test_the_smtp_address_is_read_and_its_password_never_shown():
    login = server_of("smtp://desk%40a.example:s3cr%3Ait@mail.example:587")
    assert (login.host, login.port, login.tls, login.starttls, login.username) == ("mail.example", 587, False, True, "desk@a.example")
    assert login.password.get_secret_value() == "s3cr:it" and "s3cr" not in repr(login) and "s3cr" not in str(login)
    assert server_of("smtps://u:p@mail.example").port == 465 and server_of("smtps://u:p@mail.example").tls
    relay = server_of("smtp://127.0.0.1:2525")
    assert (relay.port, relay.starttls, relay.username, relay.password) == (2525, None, None, None)
    for wrong in ("http://u:s3cret@mail.example", "smtp://u:s3cret@:25", "smtp://u:s3cret@mail.example:port"):
        with pytest.raises(ValueError) as refused:
            server_of(wrong)
        assert "s3cret" not in str(refused.value)


async def test_a_login_that_cannot_be_protected_is_not_tried_and_the_password_never_logged(desk, mailbox, caplog, clock):
    """The test server offers no STARTTLS: a login would cross in the clear, so nothing is sent; the secret stays out of logs."""
    desk.config.broadcast[-1] = BroadcastTarget(name="press-release", email=["desk@a.example"])
    room = await approved_line(desk, FlakyChat(), APPROVED)
    assert desk.say("carol", "publish press-release", room).ok
    server = server_of(f"smtp://desk:hunter2-secret@127.0.0.1:{mailbox.port}")
    caplog.set_level(logging.DEBUG)
    worker = Deliverer(desk.engine, desk.deps, MailChannel(server, SENDER), attempts=2)
    await worker.deliver_pending()
    clock.advance(timedelta(hours=1))
    await worker.deliver_pending()
    assert mailbox.received == []
    assert "hunter2" not in caplog.text and "hunter2" not in " ".join(await told(desk, FlakyChat()))


async def test_a_failed_mail_target_published_again_counts_only_the_new_attempt(desk, mailbox, clock):
    desk.config.broadcast[-1] = BroadcastTarget(name="press-release", email=["desk@a.example"])
    mailbox.refuse["desk@a.example"] = "550 5.2.1 Mailbox disabled"
    room = await approved_line(desk, FlakyChat(), APPROVED)
    assert desk.say("carol", "publish press-release", room).ok
    await mail_worker(desk, mailbox).deliver_pending()
    assert "press-release: failed (0 of 1 e-mails delivered" in desk.say("carol", "published", room).message.plain()
    del mailbox.refuse["desk@a.example"]  # the desk re-enabled its mailbox
    clock.advance(timedelta(minutes=3))
    assert desk.say("carol", "publish press-release", room).ok
    await mail_worker(desk, mailbox).deliver_pending()
    assert mailbox.to() == ["desk@a.example"]
    assert "press-release: sent" in desk.say("carol", "published", room).message.plain()
    assert "(1 of 1 e-mails delivered)" in desk.say("carol", "published", room).message.plain()


@pytest.mark.parametrize(
    ("address", "why"),
    [("desk@a.example\r\nBcc: victim@evil.example", "cannot be written as an e-mail"), ("新闻@例子.example", "refused: SMTPUTF8")],
)
async def test_an_address_no_mail_can_carry_fails_at_once_and_is_told(chat, config, address, why):
    """A mail queued by another feature with an address nobody checked; the server here offers no SMTPUTF8."""
    box = Mailbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SmtpServer(box, hostname="mx.test", enable_SMTPUTF8=False), "127.0.0.1", 0)
    box.port = server.sockets[0].getsockname()[1]
    config.triage_room = RoomHandles(console="triage")
    try:
        with session(chat.engine) as db:
            queue(db, None, "mail", Mail(to=address, subject="Notice", body="Text"), chat.clock.now())
            db.commit()
        await mail_worker(chat, box).deliver_pending()
    finally:
        server.close()
    assert box.received == []
    posts = await told(chat, FlakyChat())
    assert [p for p in posts if "was not delivered (" + why in p and "attempts: 1" in p]


async def test_the_running_bot_delivers_mail_on_its_own_channel_and_tells_a_refusal_in_the_same_pass(tmp_path, config, mailbox):
    from bot.app import OneVoice
    from config.settings import Settings

    config.triage_room = RoomHandles(console="triage")
    bot = OneVoice(Settings(ONEVOICE_DATABASE_URL=seeded(f"sqlite:///{tmp_path / 'mail.db'}")), config=config)
    chat_side = FlakyChat()
    bot.attach(chat_side)
    bot.attach(MailChannel(Server("127.0.0.1", mailbox.port, False, None), SENDER), channel=True)
    assert (bot.deps.platforms, bot.deps.channels) == (["console"], {"mail"})  # no room is ever opened "on mail"
    mailbox.refuse["gone@b.example"] = "550 5.1.1 Gone"
    try:
        with session(bot.engine) as db:
            for address in ("desk@a.example", "gone@b.example"):
                queue(db, None, "mail", Mail(to=address, subject="Notice", body="Text"), bot.deps.clock.now())
            db.commit()
        await bot.deliver()
    finally:
        bot.engine.dispose()
    assert mailbox.to() == ["desk@a.example"]
    assert [d for kind, d in chat_side.calls if kind == "post" and "The e-mail to gone@b.example was not delivered" in d]


async def test_a_server_refusing_every_address_tells_three_then_one_summary_not_a_flood(desk, mailbox):
    many = [f"reader{n}@d.example" for n in range(14)]
    desk.config.broadcast[-1] = BroadcastTarget(name="press-release", email=many)
    mailbox.refuse.update({address: "550 5.7.1 Relaying denied" for address in many})
    room = await approved_line(desk, FlakyChat(), APPROVED)
    assert desk.say("carol", "publish press-release", room).ok
    await mail_worker(desk, mailbox).deliver_pending()
    posts = await told(desk, FlakyChat())
    each = [p for p in posts if "The e-mail to reader" in p]
    summary = [p for p in posts if "v1 reached 0 of 14 addresses of press-release" in p]
    assert len(each) == 3 and len(summary) == 1
    assert "reader0@d.example" in summary[0] and "reader9@d.example" in summary[0] and "and 4 more" in summary[0]
    assert "reader13@d.example" not in summary[0]


async def test_a_chinese_team_is_told_of_a_refused_address_in_chinese(desk, mailbox):
    desk.config.broadcast[-1] = BroadcastTarget(name="press-release", email=["desk@a.example", "gone@b.example"])
    mailbox.refuse["gone@b.example"] = "550 5.1.1 No such user"
    room = await approved_line(desk, FlakyChat(), APPROVED)
    desk.config.language = "zh"
    assert desk.say("carol", "publish press-release", room).ok
    await mail_worker(desk, mailbox).deliver_pending()
    posts = await told(desk, FlakyChat())
    assert [p for p in posts if "发往 gone@b.example 的电子邮件未送达（refused: 550 5.1.1 No such user）" in p]
    assert "2 封邮件已送达 1 封；未送达 gone@b.example" in desk.say("carol", "published", room).message.plain()
