"""Fuzzing the domain: thousands of commands built from the grammar, typed by team members and strangers in incident
rooms and outside, with time passing and nudges firing; every one gets a reply, nothing is logged as an error, and the
database invariants hold on the state they accumulate."""

import math
import unicodedata
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlmodel import select

from bot.outbox.effects import DELIVERIES, read
from config.model import RoomHandles
from handlers.core.cleaning import clean
from handlers.core.context import Deps
from handlers.core.ports import FakeClock, Reply
from handlers.signals.intake import RateLimited, SignalIn, receive, triage_message
from handlers.text.markup import Message
from storage.db import make_engine, session, upgrade
from storage.models import Outbox, Room
from tests.conftest import Chat
from tests.fuzz import invariants
from tests.fuzz.conftest import assert_renders, examples
from tests.fuzz.grammar import command_texts, free_text, unicode_text
from tests.templates import copy_of_starter, migrated_sqlite

CONFIG = copy_of_starter()
ACTORS = ["alice", "alice", *CONFIG.team.people, "mallory"]  # the commander most often: more commands get through


@pytest.fixture(scope="module")
def chat(tmp_path_factory):
    """One database for the whole run: invariants must hold on everything the examples pile up."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}")
    upgrade(engine)
    chat = Chat(engine, CONFIG, FakeClock())
    chat.declare()
    room = chat.declare(line="declare attack sev1 Fake rumour 电池")[1]
    chat.say("carol", "draft We are sorry. Next update at 11:00.", room)
    chat.writes = invariants.Writes(engine)
    yield chat
    engine.dispose()


def opened_rooms(chat: Chat) -> list[str]:
    """Mark new rooms opened, as console delivery would; the rooms, newest first."""
    with session(chat.engine) as db:
        rooms = list(db.exec(select(Room).order_by(Room.id.desc())))
        for room in rooms:
            if room.external_id is None:
                room.external_id = room.name
                db.add(room)
        db.commit()
        return [room.name for room in rooms]


def place(chat: Chat, choice: int) -> str | None:
    """0: the lobby, 1: a direct chat, 2: an unknown room, 3+: an incident room (recent ones more often)."""
    if choice == 0:
        return "lobby"
    if choice == 1:
        return None
    rooms = opened_rooms(chat)
    if choice == 2 or not rooms:
        return "random-room"
    return rooms[(choice - 3) % min(len(rooms), 4)]


def new_messages(chat: Chat, after: int) -> tuple[list[Message], int]:
    """The messages queued after outbox id `after`, and the last id now."""
    with session(chat.engine) as db:
        rows = list(db.exec(select(Outbox).where(Outbox.id > after).order_by(Outbox.id)))
    effects = [read(row, DELIVERIES) for row in rows]
    messages = [effect.message for effect in effects if hasattr(effect, "message")]
    return messages, rows[-1].id if rows else after


STEP = st.one_of(
    st.tuples(
        st.just("say"),
        st.sampled_from(ACTORS),
        st.integers(0, 8),
        st.one_of(command_texts(CONFIG), st.tuples(command_texts(CONFIG), st.sampled_from(["\ud800", "\udfff"])).map("".join)),
        st.one_of(st.none(), st.none(), st.sampled_from(["slack:e1", "slack:e2", "telegram:7"])),
    ),
    st.tuples(st.just("wait"), st.sampled_from([1, 5, 11, 16, 31, 61, 121, 24 * 60])),
)


@examples(300)
@given(steps=st.lists(STEP, min_size=1, max_size=4))
def test_any_command_gets_a_reply_and_leaves_the_database_whole(chat, error_log, steps):
    checked = chat.checked_outbox = getattr(chat, "checked_outbox", 0)
    for step in steps:
        if step[0] == "wait":
            chat.clock.advance(timedelta(minutes=step[1]))
            chat.fire_due()
            continue
        _kind, actor, where, line, event_id = step
        reply = chat.say(actor, line, place(chat, where), event_id)
        assert isinstance(reply, Reply) and isinstance(reply.message, Message)
        assert reply.message.plain().strip() or reply.form, f"an empty reply to {line!r}"
        assert_renders(reply.message)
        assert_clean(reply.message.plain())
    assert not (errors := error_log.take()), errors
    opened_rooms(chat)
    if chat.writes.since_last_look():  # what nothing wrote to since the last check holds still
        with session(chat.engine) as db:
            invariants.check(db, CONFIG, outbox_after=checked, replies_read=chat.__dict__.setdefault("replies_read", set()))
    messages, chat.checked_outbox = new_messages(chat, checked)
    for message in messages:  # what the bot posts, DMs and pins
        assert_renders(message)
        assert_clean(message.plain())


def test_the_invariants_are_skipped_after_reads_only(tmp_path):
    engine = migrated_sqlite(tmp_path / "writes.db")
    chat = Chat(engine, CONFIG, FakeClock())
    writes = invariants.Writes(engine)
    assert writes.since_last_look()  # the first look always checks
    assert chat.say("mallory", "declare outage sev1 Nope").ok is False  # a refusal: read only
    assert not writes.since_last_look()
    chat.declare()
    assert writes.since_last_look() and not writes.since_last_look()
    engine.dispose()


def assert_clean(shown: str) -> None:
    """No control (but newline and tab), bidi or invisible character: the text is what cleaning would leave of it."""
    result = clean(shown)
    assert not result.disguised and result.text == unicodedata.normalize("NFC", shown), f"not clean: {shown!r}"


FIGURE = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**400), 10**400),
    st.booleans(),
    st.text(max_size=6),
)
SIGNALS = st.fixed_dictionaries(
    {"source": unicode_text(20, surrogates=True), "title": free_text(surrogates=True)},
    optional={
        "summary": st.one_of(free_text(surrogates=True), st.just("line one\nline two")),
        "url": st.one_of(unicode_text(20, surrogates=True), st.just("https://example.com/\u200bx\x00")),
        "keywords": st.lists(unicode_text(12, surrogates=True), max_size=3),
        "dedup_key": unicode_text(20, surrogates=True),
        "volume": FIGURE,
        "baseline": FIGURE,
        "sentiment": FIGURE,
    },
)
TRIAGE = CONFIG.model_copy(update={"triage_room": RoomHandles(console="triage")})


@examples(40)
@given(fields=SIGNALS)
def test_any_signal_is_refused_or_stored_and_shown_clean(chat, error_log, fields):
    try:
        incoming = SignalIn.model_validate(fields)
    except ValidationError:
        return  # the HTTP layer answers 422 with the problems
    deps = Deps(TRIAGE, chat.clock, chat.deps.platforms)
    with session(chat.engine) as db:
        try:
            signal, _new = receive(db, deps, incoming)
        except RateLimited:
            return
        for name in ("source", "title", "summary", "url", "dedup_key"):
            value = getattr(signal, name)
            assert value is None or (clean(value).text == value and not clean(value).disguised), (name, value)
        for name in ("volume", "baseline", "sentiment"):
            assert getattr(signal, name) is None or math.isfinite(getattr(signal, name))
        message = triage_message(TRIAGE, signal)
    assert_renders(message)
    assert_clean(message.plain())
    assert not (errors := error_log.take()), errors
