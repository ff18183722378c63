"""Wave-2 attacks at the delivery boundary: each test fails without the fix it names."""

from bot.outbox.worker import Deliverer
from handlers.core.effects import Post
from tests.bot import test_mail as core
from tests.bot.test_delivery import FlakyChat
from tests.bot.test_mail import mail_worker, told
from tests.bot.test_publish import published

mailbox = core.mailbox  # the fixture of the core e-mail tests: the SMTP server


async def test_a_publication_waiting_for_its_platform_when_the_severity_rises_waits_for_the_countersignature(chat):
    adapter = FlakyChat()
    chat.declare(line="declare product-quality sev4 Battery overheating")
    deliverer = Deliverer(chat.engine, chat.deps, adapter)
    await deliverer.deliver_pending()
    room = "C123"
    assert chat.say("carol", "draft We are sorry. The lot is recalled. Next update at 11:00.", room).ok
    assert chat.say("alice", "approve v1", room).ok  # the commander alone: the rule of sev4
    assert chat.say("alice", "publish newsroom", room).ok  # queued, not yet delivered
    assert chat.say("alice", "sev 1", room).ok  # legal must countersign now
    await deliverer.deliver_pending()
    assert published(adapter) == []
    told = [p.message.plain() for p in chat.effects(Post) if "countersignature" in p.message.plain()]
    assert any("v1 now needs a countersignature, so it was not sent to newsroom." in t for t in told), told
    assert chat.say("bob", "approve v1", room).ok
    assert chat.say("alice", "publish newsroom", room).ok  # once signed it goes
    await deliverer.deliver_pending()
    assert [to for to, _text in published(adapter)] == ["newsroom"]


async def test_a_notify_e_mail_waiting_for_the_server_when_the_severity_rises_waits_for_the_countersignature(chat, mailbox):
    chat.deps.channels.add("mail")
    chat.declare(line="declare product-quality sev4 Battery overheating")
    room_adapter = FlakyChat()
    await Deliverer(chat.engine, chat.deps, room_adapter).deliver_pending()
    room = "C123"
    assert chat.say("carol", "draft We are sorry. The lot is recalled. Next update at 11:00.", room).ok
    assert chat.say("alice", "approve v1", room).ok  # the commander alone: the rule of sev4
    assert "e-mailed to" in chat.say("alice", "notify regulators", room).message.plain()  # queued, not yet delivered
    assert chat.say("alice", "sev 1", room).ok  # legal must countersign now
    await mail_worker(chat, mailbox).deliver_pending()
    assert mailbox.to() == []
    posts = await told(chat, room_adapter)
    assert any("was not delivered (its version now needs a countersignature" in str(p) for p in posts), posts
    assert chat.say("bob", "approve v1", room).ok
    assert "e-mailed to" in chat.say("alice", "notify regulators", room).message.plain()  # sent again once signed
    await mail_worker(chat, mailbox).deliver_pending()
    assert mailbox.to() != []


async def test_a_press_answer_held_back_for_the_countersignature_may_be_sent_again_once_signed(chat, mailbox):
    chat.deps.channels.add("mail")
    chat.declare(line="declare product-quality sev4 Battery overheating")
    room_adapter = FlakyChat()
    await Deliverer(chat.engine, chat.deps, room_adapter).deliver_pending()
    room = "C123"
    assert chat.say("carol", "draft We are sorry. The lot is recalled. Next update at 11:00.", room).ok
    assert chat.say("alice", "approve v1", room).ok
    assert chat.say("alice", "inquiry Reuters email desk@reuters.example Is it safe?", room).ok
    assert "e-mailed to desk@reuters.example" in chat.say("alice", "answer q1", room).message.plain()
    assert chat.say("alice", "sev 1", room).ok
    await mail_worker(chat, mailbox).deliver_pending()
    assert mailbox.to() == []
    assert "e-mail refused" in chat.say("alice", "inquiries", room).message.plain()
    assert not chat.say("alice", "answer q1", room).ok  # still owed: refused, nothing queued
    assert chat.say("bob", "approve v1", room).ok
    assert "e-mailed to desk@reuters.example" in chat.say("alice", "answer q1", room).message.plain()
    await mail_worker(chat, mailbox).deliver_pending()
    assert mailbox.to() == ["desk@reuters.example"]
    assert not chat.say("alice", "answer q1", room).ok  # delivered: never twice
