"""A long Telegram message goes out in pieces; a retry after a fault on a middle piece sends only the pieces still
missing, so every piece reaches the chat exactly once (issue 14)."""

from datetime import timedelta

import pytest

from bot.telegram.render import split, to_html
from handlers.core.context import queue
from handlers.core.effects import Post
from handlers.text.markup import Button, Message, text
from storage.db import session
from tests.bot.telegram_world import GROUP, TelegramWorld
from tests.fakes.telegram_api import TelegramError


@pytest.fixture
def world(tmp_path):
    world = TelegramWorld(f"sqlite:///{tmp_path / 'split.db'}")
    yield world
    world.close()


def fail_call(world: TelegramWorld, number: int, status: int) -> list[int]:
    """The fake's `number`-th sendMessage from now fails once with `status`; the list grows with each call made."""
    name, send = world.fake._methods["sendmessage"]
    made: list[int] = []

    def flaky(params):
        made.append(len(made) + 1)
        if len(made) == number:
            raise TelegramError(status, "Too Many Requests: retry after 5" if status == 429 else "Bad Gateway", {"retry_after": 5})
        return send(params)

    world.fake._methods["sendmessage"] = (name, flaky)
    return made


@pytest.mark.parametrize("status", [429, 502])
def test_a_fault_on_piece_two_of_three_then_the_retry_sends_each_piece_once(world, status):
    body = "\n".join(f"Line {n:04d}: the shift log of the night, as the scribe kept it." for n in range(150))
    message = text(body) + Message(buttons=[Button("Ack", "#1 ack")])
    pieces = split(to_html(message))
    assert len(pieces) == 3
    with session(world.bot.engine) as db:
        queue(db, None, "telegram", Post(message, to=str(GROUP)), world.clock.now())
        db.commit()
    made = fail_call(world, 2, status)
    world.run(world.bot.deliver())
    assert [m["text"] for m in world.fake.messages_in(GROUP)] == pieces[:1]  # piece 2 failed: the effect waits
    world.clock.advance(timedelta(minutes=2))
    world.run(world.bot.deliver())
    sent = world.fake.messages_in(GROUP)
    assert [m["text"] for m in sent] == pieces  # each piece once, in order
    assert len(made) == 4  # piece 1, piece 2 refused, then only pieces 2 and 3 again
    assert [bool(m["reply_markup"]) for m in sent] == [False, False, True]  # the buttons once, under the last piece
    world.run(world.bot.deliver())
    assert len(world.fake.messages_in(GROUP)) == 3  # delivered: nothing more on a later pass
