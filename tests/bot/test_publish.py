"""Publishing at the adapter boundary: the approved text goes out byte for byte, once, and only while it is the line."""

from sqlmodel import select

from bot.outbox.adapter import Undeliverable
from bot.outbox.worker import Deliverer
from storage.db import session
from storage.models import Publication
from tests.bot.test_delivery import FlakyChat

TRICKY = (
    "We're sorry 🙏 — *not* <b>bold</b> & `code` @channel <!here> [link](http://x) {title} %s \\n\n"
    "我们深表歉意。更多信息请关注官方网站：下一次更新 11:00。 Ünïcödé ﹏ 🇨🇳"
)


async def approved_line(chat, adapter, text: str) -> str:
    """Declare, deliver the room, and get `text` approved as v1; return the room id."""
    chat.declare()
    deliverer = Deliverer(chat.engine, chat.deps, adapter)
    await deliverer.deliver_pending()
    room = "C123"  # what FlakyChat returned as the room's id
    assert chat.say("carol", f"draft {text}", room).ok
    assert chat.say("bob", "approve", room).ok and chat.say("alice", "approve", room).ok
    await deliverer.deliver_pending()
    return room


def published(adapter) -> list[tuple[str, str]]:
    return [detail for kind, detail in adapter.calls if kind == "publish"]


async def test_published_text_equals_the_approved_text_byte_for_byte(chat):
    adapter = FlakyChat()
    room = await approved_line(chat, adapter, TRICKY)
    assert chat.say("carol", "publish", room).ok
    await Deliverer(chat.engine, chat.deps, adapter).deliver_pending()
    assert [to for to, _text in published(adapter)] == ["newsroom", "announcements"]
    assert all(text.encode("utf-8") == TRICKY.encode("utf-8") for _to, text in published(adapter))
    with session(chat.engine) as db:
        row = db.exec(select(Publication).where(Publication.target == "newsroom", Publication.platform == "console")).one()
    position = [kind for kind, _detail in adapter.calls].index("publish") + 1
    assert (row.target, row.state, row.message_id) == ("newsroom", "sent", str(position))  # the platform's message id
    assert "on 3 of 4 targets" in chat.say("bob", "status", room).message.plain()  # two channels and the page
    assert not chat.say("carol", "publish newsroom", room).ok  # already carried: never sent twice
    await Deliverer(chat.engine, chat.deps, adapter).deliver_pending()
    assert len(published(adapter)) == 2


async def test_the_pinned_line_is_posted_once_then_edited_in_place(chat):
    adapter = FlakyChat()
    room = await approved_line(chat, adapter, "We are sorry. Version one. Next update at 11:00.")
    assert chat.say("carol", "draft We are sorry. Version two. Next update at 12:00.", room).ok
    chat.say("bob", "approve", room)
    chat.say("alice", "approve", room)
    await Deliverer(chat.engine, chat.deps, adapter).deliver_pending()
    pins = [detail for kind, detail in adapter.calls if kind == "pin"]
    assert len(pins) == 2 and pins[0][0] is None  # posted and pinned once…
    assert pins[1][0] is not None and "Version two" in pins[1][1] and "v2" in pins[1][1]  # …then edited in place


async def test_a_version_superseded_before_delivery_is_never_sent(chat):
    adapter = FlakyChat()
    room = await approved_line(chat, adapter, "We are sorry. Version one. Next update at 11:00.")
    assert chat.say("carol", "publish newsroom", room).ok
    chat.say("carol", "draft We are sorry. Version two. Next update at 12:00.", room)
    chat.say("bob", "approve", room)
    assert "To republish: newsroom." in chat.say("alice", "approve", room).message.plain()
    await Deliverer(chat.engine, chat.deps, adapter).deliver_pending()
    assert published(adapter) == []
    with session(chat.engine) as db:
        assert db.exec(select(Publication.state).where(Publication.platform == "console")).one() == "cancelled"


class RefusesToPublish(FlakyChat):
    """The broadcast channel is gone; the incident room is fine."""

    async def publish(self, to, text):
        raise Undeliverable("channel_not_found")


async def test_a_refused_publication_is_marked_failed_and_the_room_told(chat):
    adapter = FlakyChat()
    room = await approved_line(chat, adapter, "We are sorry. Version one. Next update at 11:00.")
    assert chat.say("carol", "publish newsroom", room).ok
    refusing = RefusesToPublish()
    await Deliverer(chat.engine, chat.deps, refusing).deliver_pending()
    with session(chat.engine) as db:
        assert db.exec(select(Publication.state).where(Publication.platform == "console")).one() == "failed"
    told = [detail for kind, detail in refusing.calls if kind == "post"]
    assert [t for t in told if "could not be published to newsroom: channel_not_found" in t]  # in the same pass
    assert not [t for t in told if "Could not deliver" in t]  # told once, by the domain, with the target's name
    assert chat.say("carol", "publish newsroom", room).ok  # a failed target can be tried again
