"""Fuzzing the claims grammar: any free text, with or without a link and a reach at the end, is logged whole or refused
with a usage line, never half-way and never as an error."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.core.ports import FakeClock
from storage.db import make_engine, upgrade
from tests.conftest import Chat
from tests.fuzz.conftest import examples
from tests.fuzz.grammar import free_text
from tests.templates import copy_of_starter

CONFIG = copy_of_starter()
REACH = st.one_of(st.integers(0, 10**12).map(str), st.sampled_from(["12k", "1.5m", "12,000", "-5", "1e3", "0x10", "9" * 20, "far"]))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('claims') / 'fuzz.db'}")
    upgrade(engine)
    chat = Chat(engine, CONFIG, FakeClock())
    return chat, chat.declare()[1]


@examples(300)
@given(text=free_text(), url=st.sampled_from(["", "https://weibo.example/p/1"]), reach=st.one_of(st.just(""), REACH))
def test_a_claim_is_logged_whole_or_refused(world, text, url, reach):
    chat, room = world
    line = " ".join(part for part in ("claim", text, url, f"reach {reach}" if reach else "") if part)
    reply = chat.say("dave", line, room)
    plain = reply.message.plain()
    assert "Something went wrong" not in plain
    if reply.ok:
        assert "logged by Dave Zhang" in plain
        if url:
            assert url in plain  # on a line of its own, or inside the text when what follows is not a reach (the text kept whole)
    else:
        assert plain  # a refusal says why
