"""Wave-2 attacks at the delivery boundary: each test fails without the fix it names."""

from bot.outbox.worker import Deliverer
from handlers.core.effects import Post
from tests.bot.test_delivery import FlakyChat
from tests.bot.test_publish import published


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
