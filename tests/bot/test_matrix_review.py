"""The Matrix adapter's review findings, against the fake homeserver: commands only in the rooms that take them, private
answers and refusals by direct room, a stranger told one short line, one true answer when a commit's acknowledgement is
lost, publications that ping nobody, a final dot after a Matrix id, and a failing event's waits that grow."""

from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from bot.matrix import sync as matrix_sync
from bot.matrix.sync import load_token
from bot.outbox import unsettled
from config.model import RoomHandles
from storage.models import Outbox
from tests.bot import matrix_world
from tests.bot.matrix_homeserver import FakeHomeserver
from tests.bot.matrix_world import CRISIS, NEWS, STRANGER, MatrixWorld, matrix_team, notices

fake = matrix_world.fake
world = matrix_world.world

ALICE = "@alice:test"
TRIAGE = "!triage:test"


def direct_room(fake: FakeHomeserver, user: str) -> str | None:
    """The direct room the bot made to tell one person something privately."""
    return next((r["room_id"] for r in fake.created if r.get("is_direct") and user in r.get("invite", [])), None)


async def decided(world: MatrixWorld, fake: FakeHomeserver, events: dict[str, list[dict]]) -> None:
    """Push one batch and wait until it is decided (its token stored), delivering what it queued."""
    token = fake.push(join=events)
    await world.until(lambda: load_token(world.bot.engine, fake.user_id) == token, what="the batch decided")
    await world.bot.deliver()


async def declared(world: MatrixWorld, fake: FakeHomeserver) -> None:
    fake.push(join={CRISIS: [fake.message(ALICE, "!crisis declare outage sev3 Checkout slow")]})
    await world.until(lambda: any(a.startswith("Declared #1") for a in notices(fake, CRISIS)), what="the declaration")


async def test_commands_in_a_room_that_takes_none_are_ignored_and_change_nothing(world, fake):
    secret = fake.message(ALICE, "!crisis declare outage sev2 Secret thing")
    await decided(world, fake, {NEWS: [secret, fake.message(STRANGER, "!crisis list")]})
    assert fake.said() == [] and fake.created == []  # nothing said anywhere, no room opened
    await declared(world, fake)  # and the ignored declaration did not take #1


async def test_a_private_answer_and_a_members_refusal_go_to_the_direct_room_not_the_crisis_room(world, fake):
    await declared(world, fake)
    in_crisis = len(notices(fake, CRISIS))
    await decided(world, fake, {CRISIS: [fake.message(ALICE, "!crisis list"), fake.message(ALICE, "!crisis #9 status")]})
    dm = direct_room(fake, ALICE)
    await world.until(lambda: dm is not None and len(notices(fake, dm)) >= 2, what="both answers in Alice's direct room")
    said = notices(fake, direct_room(fake, ALICE))
    assert any("Checkout slow" in a for a in said) and any("#9" in a for a in said)
    assert len(notices(fake, CRISIS)) == in_crisis  # the crisis room read neither


async def test_a_stranger_reads_one_short_line_without_the_setup_and_a_flood_is_cut_short(world, fake):
    flood = [fake.message(STRANGER, f"!crisis declare outage sev1 Forged {n}") for n in range(10)]
    await decided(world, fake, {CRISIS: flood})
    said = notices(fake, CRISIS)
    assert 1 <= len(said) <= 3, said  # rate-limited: the first few are told
    assert all(STRANGER in a and "onevoice.yaml" not in a and "yaml" not in a for a in said)
    assert fake.created == []  # nothing declared, no direct room made for a stranger


async def test_a_command_in_an_incident_room_is_taken(world, fake):
    await declared(world, fake)
    await world.until(lambda: any(r.get("name", "").startswith("crisis-") for r in fake.created), what="the incident room")
    room = next(r["room_id"] for r in fake.created if r.get("name", "").startswith("crisis-"))
    await decided(world, fake, {room: [fake.message(ALICE, "!crisis assign scribe @erin:test")]})
    await world.until(lambda: any("Erin Liu" in c["body"] for c in fake.said(room)), what="the assignment in the room")


async def test_a_command_in_the_triage_room_whose_posts_show_commands_to_type_is_taken(fake, database):
    config = matrix_team()
    config.triage_room = RoomHandles(matrix=TRIAGE)
    world = await MatrixWorld(fake, database, config).start()
    try:
        await decided(world, fake, {TRIAGE: [fake.message(ALICE, "!crisis declare outage sev3 From triage")]})
        await world.until(lambda: any(a.startswith("Declared #1") for a in notices(fake, TRIAGE)), what="the declaration")
    finally:
        await world.stop()
        world.bot.engine.dispose()


def drop_the_commit(monkeypatch, landed: bool) -> list[str]:
    """The next commit writing a command's answer: it lands (or not), then the connection drops."""
    dropped: list[str] = []
    real_commit = Session.commit

    def commit(session):
        answering = not dropped and any(isinstance(o, Outbox) and o.kind == "answer" for o in session.new)
        if answering and landed:
            real_commit(session)
        if answering:
            dropped.append("dropped")
            raise OperationalError("COMMIT", {}, ConnectionError("server closed the connection unexpectedly"))
        real_commit(session)

    monkeypatch.setattr(Session, "commit", commit)
    return dropped


async def test_a_commit_that_landed_but_lost_its_acknowledgement_is_answered_once_and_truly(world, fake, monkeypatch):
    dropped = drop_the_commit(monkeypatch, landed=True)
    await declared(world, fake)
    await decided(world, fake, {CRISIS: [fake.message(ALICE, "!crisis list")]})
    assert dropped
    said = notices(fake)
    assert [a for a in said if a.startswith("Declared")] == [said[0]] and len(said) == 2, said
    assert not any("nothing was changed" in a for a in said)


async def test_a_commit_that_never_landed_is_answered_nothing_was_changed_once(world, fake, monkeypatch):
    dropped = drop_the_commit(monkeypatch, landed=False)
    await decided(world, fake, {CRISIS: [fake.message(ALICE, "!crisis declare outage sev3 Lost")]})
    assert dropped
    said = notices(fake)
    assert len(said) == 1 and "nothing was changed" in said[0], said
    assert not any(r.get("name", "").startswith("crisis-") for r in fake.created)


async def test_while_the_database_cannot_say_whether_it_landed_the_token_stays_and_the_event_is_answered_once(world, fake, monkeypatch):
    dropped = drop_the_commit(monkeypatch, landed=True)
    real_landed, checks = unsettled.landed, []

    def landed(*args, **kwargs):  # the database is still away when the front asks whether the commit landed
        checks.append("asked")
        if len(checks) == 1:
            raise OperationalError("SELECT", {}, ConnectionError("server closed the connection unexpectedly"))
        return real_landed(*args, **kwargs)

    seen, on_event = [], world.front.on_event

    async def counted(room_id, event):
        seen.append(event["event_id"])
        return await on_event(room_id, event)

    monkeypatch.setattr(unsettled, "landed", landed)
    monkeypatch.setattr(world.front, "on_event", counted)
    await decided(world, fake, {CRISIS: [fake.message(ALICE, "!crisis declare outage sev3 Unknown fate")]})
    assert dropped and len(checks) == 2 and len(seen) == 2  # not acknowledged the first time: the event came again
    said = notices(fake)
    assert len(said) == 1 and said[0].startswith("Declared #1"), said


async def test_a_publication_mentions_nobody_so_at_room_pings_no_one(world, fake):
    await world.adapter.publish(NEWS, "@room 停电 <b>&</b> 🙏")
    [published] = fake.said(NEWS)
    assert published == {"msgtype": "m.text", "body": "@room 停电 <b>&</b> 🙏", "m.mentions": {}}


async def test_a_matrix_id_at_the_end_of_a_sentence_is_that_member(world, fake):
    await declared(world, fake)
    await decided(world, fake, {CRISIS: [fake.message(ALICE, "!crisis #1 assign comms @carol:test.")]})
    assigned = lambda: any("Carol Wang (by Alice Chen)" in c["body"] for c in fake.said())  # noqa: E731
    await world.until(assigned, what="Carol assigned")
    assert not any("not a mention" in c["body"] or "not a member" in c["body"] for c in fake.said())


async def test_a_failing_events_waits_grow_until_it_is_skipped(world, fake, monkeypatch):
    pauses: list[float] = []

    async def pause(seconds: float, why: str) -> None:
        pauses.append(seconds)

    async def broken(room_id, event):
        raise RuntimeError("this event cannot be handled")

    monkeypatch.setattr(matrix_sync.random, "uniform", lambda low, high: high)
    monkeypatch.setattr(world.syncer, "_pause", pause)
    monkeypatch.setattr(world.front, "on_event", broken)
    await decided(world, fake, {CRISIS: [fake.message(ALICE, "!crisis list")]})  # skipped after its attempts
    assert pauses == [matrix_sync.BACKOFF_FIRST, 2 * matrix_sync.BACKOFF_FIRST]
