"""E-mail broadcast targets against a real SMTP server (aiosmtpd) on loopback: one mail per address, the subject the
headline, the body the approved text byte for byte, never twice after a fault, a refused address told in the room."""

import asyncio
import email
from datetime import timedelta
from email.policy import default as parsing

import pytest
from aiosmtpd.smtp import SMTP as SmtpServer

from bot.outbox.mail import MailChannel, Server
from bot.outbox.worker import Deliverer
from config.model import BroadcastTarget
from handlers.line import headline as headlines
from tests.bot.test_delivery import FlakyChat
from tests.bot.test_publish import approved_line

SENDER = "desk@onevoice.example"
ADDRESSES = ["desk@a.example", "news@b.example", "wire@c.example"]
APPROVED = (
    "我们深表歉意 🙏 — <b>bold</b> & `code`.\n"
    ".A line that starts with a dot\n"
    "..two dots\n"
    ".\n"
    "From the desk: next update at 11:00. 更多信息：官方网站。\n"
    "Ünïcödé ﹏ 🇨🇳"
)
HEADLINE = "电池过热：我们的说明 ⚡ <b>&"


class Mailbox:
    """What the server was told to do, and what it received (only mails it answered 250 to)."""

    def __init__(self):
        self.received: list[tuple[list[str], email.message.EmailMessage]] = []
        self.refuse: dict[str, str] = {}  # address -> the answer to its RCPT, every time
        self.defer_once: dict[str, str] = {}  # address -> the answer to its first RCPT
        self.drop_in_data = 0  # DATA ends with the line dropped, no answer: the next n times
        self.drop_after_accepting = 0  # 250 to DATA, then the line dropped before QUIT: the next n times

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address in self.refuse:
            return self.refuse[address]
        if address in self.defer_once:
            return self.defer_once.pop(address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.drop_in_data:
            self.drop_in_data -= 1
            server.transport.close()  # the whole message came, the server never said it took it
            return "250 never said"
        self.received.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.original_content, policy=parsing)))
        if self.drop_after_accepting:
            self.drop_after_accepting -= 1
            asyncio.get_running_loop().call_soon(server.transport.close)  # right after the 250 is written
        return "250 OK"

    def to(self) -> list[str]:
        return [address for recipients, _message in self.received for address in recipients]


@pytest.fixture
async def mailbox():
    box = Mailbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SmtpServer(box, hostname="mx.test", enable_SMTPUTF8=True), "127.0.0.1", 0)
    box.port = server.sockets[0].getsockname()[1]
    yield box
    server.close()
    await server.wait_closed()


@pytest.fixture
def desk(chat, mailbox, monkeypatch):
    """The console chat with an e-mail target and the mail channel attached; the headline is set for the version."""
    chat.config.broadcast.append(BroadcastTarget(name="press-release", email=ADDRESSES))
    chat.deps.channels.add("mail")
    monkeypatch.setattr(headlines, "headline_of", lambda statement, config: HEADLINE)
    return chat


def mail_worker(chat, mailbox, attempts: int = 8) -> Deliverer:
    return Deliverer(chat.engine, chat.deps, MailChannel(Server("127.0.0.1", mailbox.port, False, None), SENDER), attempts=attempts)


async def told(chat, room_adapter: FlakyChat) -> list[str]:
    """Deliver what the room was told; its posts."""
    await Deliverer(chat.engine, chat.deps, room_adapter).deliver_pending()
    return [detail for kind, detail in room_adapter.calls if kind == "post"]


async def test_each_address_gets_one_mail_with_the_headline_and_the_approved_text_byte_for_byte(desk, mailbox):
    room = await approved_line(desk, FlakyChat(), APPROVED)
    reply = desk.say("carol", "publish press-release", room)
    assert reply.ok and "press-release: 3 recipients" in reply.message.plain()
    assert await mail_worker(desk, mailbox).deliver_pending() == 3
    assert sorted(mailbox.to()) == sorted(ADDRESSES)  # one mail per recipient, each to one address
    for recipients, message in mailbox.received:
        assert message["Subject"] == HEADLINE and message["To"] == recipients[0] and message["From"] == SENDER
        assert message.get_content_type() == "text/plain" and message.get_content_charset() == "utf-8"
        assert message.get_payload(decode=True) == APPROVED.encode("utf-8")  # byte for byte, dots and "From " included
    assert len({message["Message-ID"] for _to, message in mailbox.received}) == 3
    assert await mail_worker(desk, mailbox).deliver_pending() == 0 and len(mailbox.received) == 3  # nothing twice
    assert "press-release: sent" in desk.say("carol", "published", room).message.plain()
    assert "(3 of 3 e-mails delivered)" in desk.say("carol", "published", room).message.plain()
    assert not desk.say("carol", "publish press-release", room).ok  # already carried: never mailed again


async def test_a_refused_address_fails_at_once_the_others_arrive_and_the_room_is_told_which(desk, mailbox, clock):
    mailbox.refuse["news@b.example"] = "550 5.1.1 No such user"
    room = await approved_line(desk, FlakyChat(), APPROVED)
    assert desk.say("carol", "publish press-release", room).ok
    await mail_worker(desk, mailbox).deliver_pending()
    assert sorted(mailbox.to()) == ["desk@a.example", "wire@c.example"]
    posts = await told(desk, FlakyChat())
    assert [p for p in posts if "The e-mail to news@b.example was not delivered (refused: 550 5.1.1 No such user); attempts: 1" in p]
    shown = desk.say("carol", "published", room).message.plain()
    assert "(2 of 3 e-mails delivered; not delivered to news@b.example)" in shown
    clock.advance(timedelta(hours=2))
    assert await mail_worker(desk, mailbox).deliver_pending() == 0 and len(mailbox.received) == 2  # never tried again


async def test_a_4xx_then_success_arrives_once(desk, mailbox, clock):
    mailbox.defer_once["wire@c.example"] = "451 4.3.0 Try again later"
    room = await approved_line(desk, FlakyChat(), APPROVED)
    assert desk.say("carol", "publish press-release", room).ok
    worker = mail_worker(desk, mailbox)
    assert await worker.deliver_pending() == 2 and "wire@c.example" not in mailbox.to()
    assert "(2 of 3 e-mails delivered)" in desk.say("carol", "published", room).message.plain()  # still sending
    clock.advance(timedelta(minutes=10))
    assert await worker.deliver_pending() == 1
    clock.advance(timedelta(hours=1))
    assert await worker.deliver_pending() == 0
    assert sorted(mailbox.to()) == sorted(ADDRESSES)
    assert not [p for p in await told(desk, FlakyChat()) if "not delivered" in p]  # a deferral is no failure
    assert "(3 of 3 e-mails delivered)" in desk.say("carol", "published", room).message.plain()


async def test_a_connection_dropped_mid_data_is_retried_and_the_mail_arrives_once(desk, mailbox, clock):
    desk.config.broadcast[-1] = BroadcastTarget(name="press-release", email=["desk@a.example"])
    mailbox.drop_in_data = 1
    room = await approved_line(desk, FlakyChat(), APPROVED)
    assert desk.say("carol", "publish press-release", room).ok
    worker = mail_worker(desk, mailbox)
    assert await worker.deliver_pending() == 0 and mailbox.received == []
    clock.advance(timedelta(minutes=10))
    assert await worker.deliver_pending() == 1
    clock.advance(timedelta(hours=1))
    assert await worker.deliver_pending() == 0
    assert mailbox.to() == ["desk@a.example"]
    assert mailbox.received[0][1].get_payload(decode=True) == APPROVED.encode("utf-8")


async def test_a_mail_the_server_accepted_is_not_sent_again_when_the_line_drops_before_quit(desk, mailbox, clock):
    mailbox.drop_after_accepting = 3
    room = await approved_line(desk, FlakyChat(), APPROVED)
    assert desk.say("carol", "publish press-release", room).ok
    assert await mail_worker(desk, mailbox).deliver_pending() == 3
    clock.advance(timedelta(hours=1))
    assert await mail_worker(desk, mailbox).deliver_pending() == 0
    assert sorted(mailbox.to()) == sorted(ADDRESSES)


async def test_the_same_row_keeps_its_message_id_across_attempts(desk, mailbox, clock):
    """What a receiver de-duplicates on when the server took a mail whose answer never reached us."""
    desk.config.broadcast[-1] = BroadcastTarget(name="press-release", email=["desk@a.example"])
    room = await approved_line(desk, FlakyChat(), APPROVED)
    assert desk.say("carol", "publish press-release", room).ok
    ids = []
    original = Mailbox.handle_DATA

    async def remember_then_drop(self, server, session_, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=parsing)
        ids.append(message["Message-ID"])
        if len(ids) == 1:
            server.transport.close()
            return "250 never said"
        return await original(self, server, session_, envelope)

    mailbox.handle_DATA = remember_then_drop.__get__(mailbox)
    worker = mail_worker(desk, mailbox)
    await worker.deliver_pending()
    clock.advance(timedelta(minutes=10))
    await worker.deliver_pending()
    assert len(ids) == 2 and ids[0] == ids[1] and ids[0].endswith("@onevoice.example>")


async def test_a_version_superseded_before_its_mails_go_is_never_mailed(desk, mailbox):
    room = await approved_line(desk, FlakyChat(), "We are sorry. Version one. Next update at 11:00.")
    assert desk.say("carol", "publish press-release", room).ok
    desk.say("carol", "draft We are sorry. Version two. Next update at 12:00.", room)
    desk.say("bob", "approve", room)
    assert "To republish: press-release." in desk.say("alice", "approve", room).message.plain()
    await mail_worker(desk, mailbox).deliver_pending()
    assert mailbox.received == []
    assert [p for p in await told(desk, FlakyChat()) if "v1 was superseded before it reached press-release" in p]


async def test_a_server_that_never_answers_is_given_up_after_the_attempts_and_the_room_told(desk, mailbox, clock):
    desk.config.broadcast[-1] = BroadcastTarget(name="press-release", email=["desk@a.example"])
    room = await approved_line(desk, FlakyChat(), APPROVED)
    assert desk.say("carol", "publish press-release", room).ok
    closed = Server("127.0.0.1", 9, False, None)  # the discard port: nothing listens
    worker = Deliverer(desk.engine, desk.deps, MailChannel(closed, SENDER, timeout=2), attempts=2)
    await worker.deliver_pending()
    clock.advance(timedelta(hours=1))
    await worker.deliver_pending()
    posts = await told(desk, FlakyChat())
    assert [p for p in posts if "The e-mail to desk@a.example was not delivered (cannot reach the mail server" in p]
    assert "(0 of 1 e-mails delivered; not delivered to desk@a.example)" in desk.say("carol", "published", room).message.plain()
    assert "press-release: failed" in desk.say("carol", "published", room).message.plain()


async def test_a_drill_mails_nobody(desk, mailbox, clock):
    reply = desk.say("alice", "drill product-quality")
    assert reply.ok
    room = desk.room_of(reply.incident_id)
    assert desk.say("carol", "draft We are sorry. This is a drill. Next update at 11:00.", room).ok
    desk.say("bob", "approve", room)
    desk.say("alice", "approve", room)
    said = desk.say("carol", "publish press-release", room)
    assert said.ok and "DRILL" in said.message.plain() and "Nothing was sent outside" in said.message.plain()
    assert await mail_worker(desk, mailbox).deliver_pending() == 0 and mailbox.received == []


async def test_without_a_mail_server_the_target_is_named_not_connected_and_nothing_is_queued(desk, mailbox):
    desk.deps.channels.discard("mail")
    room = await approved_line(desk, FlakyChat(), APPROVED)
    said = desk.say("carol", "publish", room).message.plain()
    assert "press-release: not connected here" in said
    desk.deps.channels.add("mail")
    assert await mail_worker(desk, mailbox).deliver_pending() == 0 and mailbox.received == []
    assert desk.say("carol", "publish press-release", room).ok  # once it is there, the target can still be published
    assert await mail_worker(desk, mailbox).deliver_pending() == 3


async def test_on_both_databases_each_recipient_is_counted_and_a_refusal_told(any_engine, config, clock, mailbox, monkeypatch):
    from tests.conftest import Chat

    chat = Chat(any_engine, config, clock)
    chat.config.broadcast.append(BroadcastTarget(name="press-release", email=ADDRESSES))
    chat.deps.channels.add("mail")
    monkeypatch.setattr(headlines, "headline_of", lambda statement, config: HEADLINE)
    mailbox.refuse["wire@c.example"] = "550 5.1.1 No such user"
    room = await approved_line(chat, FlakyChat(), APPROVED)
    assert chat.say("carol", "publish press-release", room).ok
    await mail_worker(chat, mailbox).deliver_pending()
    assert sorted(mailbox.to()) == ["desk@a.example", "news@b.example"]
    assert all(message.get_payload(decode=True) == APPROVED.encode() for _to, message in mailbox.received)
    assert "(2 of 3 e-mails delivered; not delivered to wire@c.example)" in chat.say("carol", "published", room).message.plain()
    assert [p for p in await told(chat, FlakyChat()) if "The e-mail to wire@c.example was not delivered" in p]
