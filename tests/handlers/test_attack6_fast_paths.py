"""Attack on two fast paths: the router's room incident read by Core + storage.rows.attached (189b791, 6bf5a50), and the
markup's named-tuple spans, cached static() templates and rewritten lines()/_merge() (46d4dbb).

Each router test runs the same script of commands twice, once with the new `incident_for` and once with the ORM select
it replaced, and compares every reply and every row written; the markup tests compare against the code as it was."""

import random
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlmodel import col, select

import handlers.router as router
from handlers.core.ports import Command, FakeClock, RoomRef, UserRef
from handlers.text import markup
from handlers.text.markup import Button, Message, Span, fmt, lines, static, text, verbatim
from storage.db import session
from storage.models import Incident, ProcessedEvent, Room
from tests.conftest import Chat

# --------------------------------------------------------------------------------------------------------------------
# The router: old ORM read versus Core read + attached
# --------------------------------------------------------------------------------------------------------------------


_NEW_INCIDENT_FOR = router.incident_for


def _old_incident_for(session_, command, target):
    """`incident_for` as it was before 189b791: an ORM select(Incident)."""
    if target is not None:
        return _NEW_INCIDENT_FOR(session_, command, target)
    room = command.room
    if room is None or room.direct:
        return None
    query = select(Incident).join(Room, col(Room.incident_id) == Incident.id)
    query = query.where(Room.platform == room.platform, Room.external_id == room.external_id)
    query = query.where(Room.thread_id == room.thread_id if room.thread_id is not None else col(Room.thread_id).is_(None))
    return session_.exec(query).first()


def _old_reads(monkeypatch) -> None:
    """The router as it was before 189b791: the incident by an ORM select, every verb reading its own rows after."""
    monkeypatch.setattr(router, "incident_for", _old_incident_for)
    monkeypatch.setattr(
        router, "incident_reading", lambda session_, command, target, _reads, _now: (_old_incident_for(session_, command, target), None)
    )


def _say(chat: Chat, who: str, line: str, room: str | None, thread: str | None = None, event_id=None, acked_once=False):
    ref = RoomRef("console", room, thread) if room else None
    with session(chat.engine) as db:
        reply = router.dispatch(db, chat.deps, Command(UserRef("console", who), line, ref, event_id, acked_once))
    return (reply.ok, reply.outcome, reply.message.plain(), reply.echoed, reply.read_only, reply.incident_id, reply.duplicate)


SCRIPT = [
    ("alice", "status", None),
    ("alice", "sev 1", None),
    ("alice", "phase assessing", None),
    ("alice", "phase nonsense", None),  # a refusal: rolled back
    ("alice", "#{id} status", None),  # a target and its own room
    ("alice", "#{id} sev 2", None),
    ("alice", "#{other} status", None),  # a target and another incident's room
    ("alice", "#{other} sev 1", None),
    ("erin", "sev 3", None),  # perhaps refused for the role
    ("alice", "update Lot narrowed down", None),
    ("alice", "status", "again"),  # a redelivery of an earlier event id
    ("alice", "sev 1", "again"),
    ("alice", "status", "ro"),  # acked once, read only: no dedup key
    ("alice", "resolve All clear", None),
    ("alice", "sev 2", None),
    ("alice", "close --force Done", None),
    ("alice", "sev 1", None),  # closed: refused
    ("alice", "reopen", None),
    ("alice", "status", None),
]


def _run(chat: Chat, thread: str | None = None) -> list:
    first, room = chat.declare()
    other, _other_room = chat.declare(line="declare outage sev3 API errors")
    if thread is not None:  # the incident's room is a topic of a forum group (as Telegram's are)
        with session(chat.engine) as db:
            row = db.exec(select(Room).where(Room.incident_id == first)).one()
            row.thread_id = thread
            db.add(row)
            db.commit()
    out = []
    for who, line, event in SCRIPT:
        chat.clock.advance(timedelta(minutes=1))
        event_id = event and f"console:{event}"
        out.append(_say(chat, who, line.format(id=first, other=other), room, thread, event_id=event_id, acked_once=event == "ro"))
        if thread is not None:  # the same words in the group's main chat: not the topic's incident
            out.append(_say(chat, who, "status", room, None))
    snapshot = chat.snapshot()
    with session(chat.engine) as db:
        keys = sorted(row.key for row in db.exec(select(ProcessedEvent)))
    return [out, snapshot, keys]


@pytest.mark.parametrize("thread", [None, "topic-7"])
def test_a_script_typed_in_rooms_does_what_the_orm_read_did(any_engine, config, clock, monkeypatch, thread):
    new = _run(Chat(any_engine, config, clock), thread)
    assert any(out[0] for out in new[0]), "the script did something"
    # the same script on a fresh database with the old read
    _old_reads(monkeypatch)
    fresh = _fresh_engine(any_engine)
    try:
        old = _run(Chat(fresh, config, FakeClock()), thread)
    finally:
        fresh.dispose()
    assert new[0] == old[0]
    assert new[2] == old[2]
    assert new[1] == old[1]  # every row of every table (the clocks are the same fake)


def _fresh_engine(engine):
    """A second empty migrated database of the same kind as `engine`."""
    import tempfile
    from pathlib import Path

    from tests.conftest import migrated_sqlite

    if engine.url.get_backend_name() == "sqlite":
        return migrated_sqlite(Path(tempfile.mkdtemp(prefix="attack6-")) / "old.db")
    from tests.conftest import private_schema

    manager = private_schema()
    made, _url = manager.__enter__()
    _MANAGERS.append(manager)
    return made


_MANAGERS: list = []


@pytest.fixture(autouse=True)
def _close_schemas():
    yield
    while _MANAGERS:
        _MANAGERS.pop().__exit__(None, None, None)


# --------------------------------------------------------------------------------------------------------------------
# The dedup key of a read-only command typed in a room (storage.writes.wrote)
# --------------------------------------------------------------------------------------------------------------------


def test_a_read_only_command_typed_in_a_room_writes_no_dedup_key(chat):
    incident_id, room = chat.declare()
    for line in ("status", f"#{incident_id} status", "status"):
        reply = _say(chat, "alice", line, room, event_id=f"slack:{line}", acked_once=True)
        assert reply[0], reply
    with session(chat.engine) as db:
        assert [row.key for row in db.exec(select(ProcessedEvent))] == []


def test_a_change_typed_in_a_room_writes_its_dedup_key_and_the_change(chat):
    incident_id, room = chat.declare()
    assert _say(chat, "alice", "sev 1", room, event_id="slack:sev", acked_once=True)[0]
    again = _say(chat, "alice", "sev 3", room, event_id="slack:sev", acked_once=True)
    assert again[6], "the redelivery is answered from the stored reply"
    with session(chat.engine) as db:
        assert db.get(Incident, incident_id).severity == "sev1"
        assert [row.key for row in db.exec(select(ProcessedEvent))] == ["slack:sev"]


def test_vetting_a_button_in_the_room_reads_the_incident_after_its_rehearsal(chat):
    """vet_command rolls the rehearsal back, then reads `incident.id` of the attached (now expired) object."""
    incident_id, room = chat.declare()
    with session(chat.engine) as db:
        verb, found, person = router.vet_command(
            db, chat.deps, Command(UserRef("console", "alice"), "resolve", RoomRef("console", room)), router.REHEARSAL
        )
    assert (verb, found, person) == ("resolve", incident_id, "alice")
    with session(chat.engine) as db:
        assert db.get(Incident, incident_id).phase != "resolved"


# --------------------------------------------------------------------------------------------------------------------
# Markup: the code as it was before 46d4dbb, for comparison
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OldSpan:
    text: str
    style: str = ""


def _old_parse(template: str, values: dict | None) -> list[OldSpan]:
    spans: list[OldSpan] = []
    fields = values or {}
    for style, pieces in markup._template(template, values is not None):
        for i, piece in enumerate(pieces):
            if i % 2 and isinstance(fields[piece], Message):
                spans.extend(OldSpan(*s) for s in fields[piece].spans)
                continue
            value = str(fields[piece]) if i % 2 else piece
            if value:
                spans.append(OldSpan(value, style))
    return _old_merge(spans)


def _old_merge(spans):
    merged = []
    for span in spans:
        if merged and merged[-1].style == span.style:
            merged[-1] = OldSpan(merged[-1].text + span.text, span.style)
        else:
            merged.append(span)
    return merged


def _old_lines(*messages):
    spans, buttons = [], []
    for message in messages:
        if not message.spans and not message.buttons:
            continue
        if spans and message.spans:
            spans.append(OldSpan("\n"))
        spans = spans + [OldSpan(*s) for s in message.spans]
        buttons = buttons + message.buttons
    return _old_merge(spans), buttons


def _pairs(spans) -> list[tuple[str, str]]:
    return [(s.text, s.style) for s in spans]


_WORDS = ["", "a", " ", "\n", "**", "`", "{x}", "{y}", "{", "}", "b**c", "`d`", "é", "{x}{y}", "**{x}**", "`{y}`"]


def _template(rng: random.Random) -> str:
    return "".join(rng.choice(_WORDS) for _ in range(rng.randint(0, 8)))


def _value(rng: random.Random) -> object:
    kind = rng.randint(0, 6)
    if kind == 0:
        return ""
    if kind == 1:
        return verbatim(rng.choice(["q", "", "**x**"]))
    if kind == 2:
        return fmt(_template(rng).replace("{", "").replace("}", ""))
    if kind == 3:
        return static(_template(rng))
    if kind == 4:
        return Message()
    if kind == 5:
        return 0
    return rng.choice(["v", "**", "`", "{x}", "\n"])


def test_fmt_static_and_lines_give_the_spans_they_gave_before():
    rng = random.Random(6)
    for _ in range(3000):
        template = _template(rng)
        values = {"x": _value(rng), "y": _value(rng)}
        if re.search(r"\{(\w+)\}", template) and not set(re.findall(r"\{(\w+)\}", template)) <= {"x", "y"}:
            continue
        assert _pairs(fmt(template, **values).spans) == _pairs(_old_parse(template, values)), (template, values)
        assert _pairs(static(template).spans) == _pairs(_old_parse(template, None)), template
        parts = [_value(rng) if rng.random() < 0.8 else Message([], [Button("b", "c")]) for _ in range(rng.randint(0, 5))]
        parts = [p if isinstance(p, Message) else text(str(p)) for p in parts]
        new = lines(*parts)
        old_spans, old_buttons = _old_lines(*parts)
        assert (_pairs(new.spans), new.buttons) == (_pairs(old_spans), old_buttons), parts


def test_a_static_message_changed_in_place_leaves_the_next_one_alone():
    template = "Type `/crisis help` for **the list** of commands."
    first = static(template)
    first.spans.append(Span("!"))
    first.spans[0] = Span("changed")
    first.buttons.append(Button("x", "y"))
    (first + text("more")).spans.append(Span("?"))
    lines(first, static(template)).spans.clear()
    again = static(template)
    assert again.plain() == "Type /crisis help for the list of commands." and again.buttons == []
    assert again == static(template) and again is not static(template) and again.spans is not static(template).spans


def test_lines_never_returns_a_list_it_was_given():
    one = text("only")
    joined = lines(one)
    joined.spans.append(Span("x"))
    assert one.plain() == "only"
    joined = fmt("{m}", m=one)
    joined.spans.append(Span("x"))
    assert one.plain() == "only"
    buttons_only = Message([], [Button("b", "c")])
    assert lines(Message(), buttons_only, Message()).buttons == [Button("b", "c")]
    assert lines(Message(), buttons_only).spans == [] and lines().spans == [] and lines(Message()).buttons == []


def test_a_message_round_trips_through_the_outbox_json():
    message = lines(fmt("**{a}** `{b}`", a="x", b="y"), verbatim("z"), Message([], [Button("l", "c", "primary", "p")]))
    again = Message.from_json(message.to_json())
    assert again == message and isinstance(again.spans[0], Span)
    assert message.to_json()["spans"][0] == ["b", "x"]  # style first, as rows queued by older versions hold


def test_spans_now_equal_plain_tuples():
    """A difference, not a bug in the product (nothing compares spans with tuples): a Span is a tuple now, so it equals
    the bare pair, unpacks and sorts; the frozen dataclass did none of these."""
    assert Span("a") == ("a", "") and Message([Span("a")]) == Message([("a", "")])  # type: ignore[list-item]
    text_, style = Span("a", "b")
    assert (text_, style) == ("a", "b") and sorted([Span("b"), Span("a")])[0].text == "a"
    assert hash(Span("a")) == hash(("a", ""))


def _one_session_run(chat: Chat) -> list:
    incident_id, room = chat.declare()
    out = []
    with session(chat.engine) as db:  # several commands through one session (its objects kept after each commit)
        for line in ("sev 1", "status", "phase nonsense", "phase assessing", f"#{incident_id} status", "status"):
            reply = router.dispatch(db, chat.deps, Command(UserRef("console", "alice"), line, RoomRef("console", room)))
            out.append((reply.ok, reply.message.plain(), reply.echoed, reply.incident_id))
        with session(chat.engine) as other:  # changed by another worker meanwhile
            other.get(Incident, incident_id).title = "Renamed elsewhere"
            other.commit()
        reply = router.dispatch(db, chat.deps, Command(UserRef("console", "alice"), "status", RoomRef("console", room)))
        out.append((reply.ok, reply.message.plain(), reply.echoed, reply.incident_id))
    return [out, chat.snapshot()]


def test_commands_sharing_one_session_do_what_the_orm_read_did(tmp_path, config, monkeypatch):
    from tests.templates import migrated_sqlite

    engines = [migrated_sqlite(tmp_path / "new.db"), migrated_sqlite(tmp_path / "old.db")]
    try:
        new = _one_session_run(Chat(engines[0], config, FakeClock()))
        _old_reads(monkeypatch)
        old = _one_session_run(Chat(engines[1], config, FakeClock()))
    finally:
        for engine in engines:
            engine.dispose()
    assert new == old
