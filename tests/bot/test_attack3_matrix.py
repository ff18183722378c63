"""Attack 3 on the Matrix intake: hostile events from the timeline must neither stall the sync loop nor change what a
command means."""

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from bot.matrix import sync as matrix_sync
from bot.matrix.sync import load_token
from bot.outbox.unsure import UNSURE_FOR
from storage.db import session as sqlmodel_session
from storage.models import Outbox
from tests.bot import matrix_world
from tests.bot.matrix_homeserver import FakeHomeserver
from tests.bot.matrix_world import CRISIS, NEWS, STRANGER, MatrixWorld, matrix_team, notices

fake = matrix_world.fake
world = matrix_world.world


@pytest.mark.parametrize(
    "odd",
    [
        {"m.relates_to": "junk"},
        {"m.relates_to": ["m.replace"]},
        {"m.relates_to": {"m.in_reply_to": "x"}},
        {"format": ["org.matrix.custom.html"], "formatted_body": {"a": 1}},
    ],
)
async def test_a_command_whose_client_put_odd_json_in_a_field_is_still_answered(world, fake, monkeypatch, odd):
    monkeypatch.setattr(matrix_sync, "BACKOFF_FIRST", 0.01)  # before the fix: three failing tries, then skipped
    fake.push(join={CRISIS: [fake.message(STRANGER, "!crisis list", **odd), fake.message("@alice:test", "!crisis list", **odd)]})
    await world.until(lambda: len(notices(fake)) == 2, what="the refusal and the answer", timeout=5)
    refusal, answer = notices(fake)
    assert STRANGER in refusal and STRANGER not in answer


async def test_a_broadcast_target_takes_no_command_and_hears_no_answer_or_refusal(world, fake):
    fake.push(join={CRISIS: [fake.message("@alice:test", "!crisis declare outage sev3 Checkout slow")]})
    await world.until(lambda: any(a.startswith("Declared") for a in notices(fake)), what="the declaration")
    in_public = [fake.message("@alice:test", "!crisis #1 history"), fake.message(STRANGER, "!crisis list")]
    fake.push(join={NEWS: in_public, CRISIS: [fake.message("@alice:test", "!crisis #1 status")]})
    await world.until(lambda: len(notices(fake)) >= 2, what="the status answered in the crisis room")
    await world.bot.deliver()
    assert fake.said(NEWS) == []  # the news room may be public: no drafts, no refusal naming a stranger


async def test_a_command_in_the_incident_room_is_still_answered(world, fake):
    fake.push(join={CRISIS: [fake.message("@alice:test", "!crisis declare outage sev3 Checkout slow")]})
    incident = lambda: next((r["room_id"] for r in fake.created if r.get("name", "").startswith("crisis-")), None)  # noqa: E731
    await world.until(lambda: incident() is not None, what="the incident room")
    before = len(notices(fake))
    fake.push(join={incident(): [fake.message("@alice:test", "!crisis roles")]})
    await world.until(lambda: any("Incident commander" in a for a in notices(fake)[before:]), what="the roles answered")


def reply_to(fake: FakeHomeserver, sender: str, quoted: dict, said: str) -> dict:
    """A reply as Element sends it: the quoted message's HTML inside <mx-reply>, then the reply's own words."""
    who, html = quoted["sender"], quoted["content"].get("formatted_body") or quoted["content"]["body"]
    fallback = (
        f'<mx-reply><blockquote><a href="https://matrix.to/#/{CRISIS}/{quoted["event_id"]}">In reply to</a> '
        f'<a href="https://matrix.to/#/{who}">{who}</a><br>{html}</blockquote></mx-reply>'
    )
    body = f"> <{who}> {quoted['content']['body']}\n\n{said}"
    relates = {"m.in_reply_to": {"event_id": quoted["event_id"]}}
    return fake.message(sender, body, format="org.matrix.custom.html", formatted_body=fallback + said, **{"m.relates_to": relates})


@pytest.mark.parametrize("closer", ["</blockquote></mx-reply>", "</i></b></blockquote>", "</blockquote></MX-REPLY >"])
async def test_a_reply_to_a_strangers_message_never_runs_words_hidden_in_its_html(world, fake, closer):
    fake.push(join={CRISIS: [fake.message("@alice:test", "!crisis declare outage sev3 Checkout slow")]})
    await world.until(lambda: any(a.startswith("Declared") for a in notices(fake)), what="the declaration")
    hidden = f"what now?{closer}!crisis #1 update All clear, "  # quoted whole by the replying client
    bait = fake.message(STRANGER, "what now?", format="org.matrix.custom.html", formatted_body=hidden)
    fake.push(join={CRISIS: [bait, reply_to(fake, "@alice:test", bait, "sure"), fake.message("@alice:test", "!crisis #1 roles")]})
    await world.until(lambda: len(notices(fake)) >= 2, what="the roles answered", timeout=5)
    await world.bot.deliver()
    assert not any("All clear" in c["body"] for c in fake.said())  # alice only said "sure"


async def test_someone_elses_matrix_id_whose_name_is_a_members_key_is_not_shown_as_that_member(world, fake):
    fake.push(join={CRISIS: [fake.message("@alice:test", "!crisis declare outage sev3 Checkout slow")]})
    await world.until(lambda: any(a.startswith("Declared") for a in notices(fake)), what="the declaration")
    fake.push(join={CRISIS: [fake.message("@alice:test", "!crisis #1 update Refund agreed with @dave:partner.example today")]})
    posted = lambda: [c for c in fake.said() if "Refund agreed" in c["body"] and c.get("msgtype") == "m.text"]  # noqa: E731
    await world.until(posted, what="the update posted")
    for content in posted():
        assert "@dave:partner.example" in content["body"]
        assert "@dave:test" not in content["formatted_body"] and "@dave:test" not in str(content.get("m.mentions"))


class Outage:
    """Every statement of the bot's engine fails while `down` (the database stopped, the network cut)."""

    def __init__(self, engine):
        self.down = False
        event.listen(engine, "before_cursor_execute", self._check)

    def _check(self, *_args, **_kwargs):
        if self.down:
            raise OperationalError("SELECT", {}, ConnectionError("server closed the connection unexpectedly"))


def pending(world: MatrixWorld) -> int:
    """Effects the bot has queued and not yet delivered."""
    with sqlmodel_session(world.bot.engine) as db:
        return len(db.exec(select(Outbox.id).where(Outbox.state == "pending")).all())


async def without_delivery(condition) -> None:
    """Wait for condition() while the database is away (the delivery loop would only fail)."""
    deadline = asyncio.get_running_loop().time() + 10
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_a_command_told_nobody_could_tell_while_the_database_is_away_is_told_once_and_never_run_later(world, fake, monkeypatch):
    monkeypatch.setattr(matrix_sync, "BACKOFF_FIRST", 0.01)
    monkeypatch.setattr(matrix_sync, "BACKOFF_MAX", 0.2)  # the waits of the outage's rounds stay short, however many
    fake.push(join={CRISIS: [fake.message("@alice:test", "!crisis declare outage sev3 Checkout slow")]})
    await world.until(lambda: any(a.startswith("Declared") for a in notices(fake)), what="the declaration")
    outage = Outage(world.bot.engine)
    outage.down = True
    token = fake.push(join={CRISIS: [fake.message("@alice:test", "!crisis #1 task Call the supplier back")]})
    asked = len(fake.syncs)
    await without_delivery(lambda: len(fake.syncs) >= asked + 3)  # it met the database away: nothing said (issue 14)
    assert not any("cannot be reached" in a for a in notices(fake))
    world.clock.advance(UNSURE_FOR + timedelta(seconds=1))
    await without_delivery(lambda: any("could not tell" in a for a in notices(fake)))
    asked = len(fake.syncs)
    await without_delivery(lambda: len(fake.syncs) >= asked + 3)  # the batch fetched again while the database is away
    told = len(notices(fake))
    outage.down = False
    await world.until(lambda: load_token(world.bot.engine, fake.user_id) == token, 30, "the token stored")
    fake.push(join={CRISIS: [fake.message("@alice:test", "!crisis #1 tasks all")]})
    await world.until(lambda: len(notices(fake)) >= told + 1 and "cannot" not in notices(fake)[-1], what="the tasks listed")
    await world.bot.deliver()
    assert sum("cannot be reached" in a for a in notices(fake)) == 1  # told once, not every sync round
    assert "Call the supplier back" not in notices(fake)[-1]  # told nobody could tell: so it was not done later


async def test_a_command_carried_out_just_before_the_database_went_away_is_never_told_nothing_was_changed(world, fake, monkeypatch):
    monkeypatch.setattr(matrix_sync, "BACKOFF_FIRST", 0.01)
    monkeypatch.setattr(matrix_sync, "BACKOFF_MAX", 0.2)
    outage, real_store, first = Outage(world.bot.engine), matrix_sync.store_token, [True]

    def store(engine, account, token):  # the database goes away between the declaration's commit and its batch's token
        if first:
            outage.down = first.pop()
        real_store(engine, account, token)

    monkeypatch.setattr(matrix_sync, "store_token", store)
    fake.push(join={CRISIS: [fake.message("@alice:test", "!crisis declare outage sev3 Checkout slow")]})
    await without_delivery(lambda: outage.down)
    asked = len(fake.syncs)
    await without_delivery(lambda: len(fake.syncs) >= asked + 3)  # synced on while the database is away
    assert [a for a in notices(fake) if "cannot be reached" in a] == []  # it was declared: "nothing was changed" is false
    token = fake.push(join={CRISIS: [fake.message("@alice:test", "!crisis #1 task Call the supplier back")]})
    asked = len(fake.syncs)
    await without_delivery(lambda: len(fake.syncs) >= asked + 3)
    world.clock.advance(UNSURE_FOR + timedelta(seconds=1))  # a command typed meanwhile is told, after UNSURE_FOR, that
    await without_delivery(lambda: any("could not tell" in a for a in notices(fake)))  # nobody could tell (issue 14)
    outage.down = False
    await world.until(lambda: load_token(world.bot.engine, fake.user_id) == token, 30, "the token stored")
    fake.push(join={CRISIS: [fake.message("@alice:test", "!crisis #1 tasks all")]})
    await world.until(lambda: "cannot" not in notices(fake)[-1], what="the tasks listed")
    await world.bot.deliver()
    assert sum(a.startswith("Declared") for a in notices(fake)) == 1 and sum("cannot be reached" in a for a in notices(fake)) == 1
    assert "Call the supplier back" not in notices(fake)[-1]


async def test_a_command_of_a_batch_that_comes_again_is_not_told_nothing_was_changed_after_its_own_answer(world, fake, monkeypatch):
    monkeypatch.setattr(matrix_sync, "BACKOFF_FIRST", 0.01)
    monkeypatch.setattr(matrix_sync, "BACKOFF_MAX", 0.2)
    outage, real_commit, answers, dropped = Outage(world.bot.engine), Session.commit, [], []

    def commit(session):  # the second answer's commit lands, then the connection drops and the database stays away
        answers.extend(o for o in session.new if isinstance(o, Outbox) and o.kind == "answer")
        real_commit(session)
        if len(answers) == 2 and not dropped:
            outage.down = True
            dropped.append(True)
            raise OperationalError("COMMIT", {}, ConnectionError("server closed the connection unexpectedly"))

    fake.push(join={CRISIS: [fake.message("@alice:test", "!crisis declare outage sev3 Checkout slow")]})
    await world.until(lambda: any(a.startswith("Declared") for a in notices(fake)), what="the declaration")
    await world.until(lambda: not pending(world), what="the declaration's room, card and notices")  # not counted below
    monkeypatch.setattr(Session, "commit", commit)
    before = len(notices(fake))
    status, task = fake.message("@alice:test", "!crisis #1 status"), fake.message("@alice:test", "!crisis #1 task Call the supplier back")
    token = fake.push(join={CRISIS: [status, task]})
    await without_delivery(lambda: outage.down)
    asked = len(fake.syncs)
    await without_delivery(lambda: len(fake.syncs) >= asked + 3)  # the batch fetched again: the task's fate is unknown
    outage.down = False
    await world.until(lambda: load_token(world.bot.engine, fake.user_id) == token, 30, "the batch decided")
    world.clock.advance(world.bot.lease + timedelta(seconds=1))  # the task's held answer is sent by the outbox
    await world.until(lambda: any("Added item" in a for a in notices(fake)), what="the task's answer")
    await world.bot.deliver()
    said = notices(fake)[before:]
    assert "cannot be reached" not in str(said), said  # nothing false: each command gets its own answer
    added, cards = [a for a in said if a.startswith("Added item")], [a for a in said if a.startswith("🟡 #1")]
    assert len(added) == 1 and len(added) + len(cards) == len(said), said
    # the status card once; twice when the database went away between its send and its sent-mark (PRODUCT.md §9 allows
    # that one resend: the outbox cannot know the send landed)
    assert 1 <= len(cards) <= 2, said


@pytest.fixture
def dropping(world, monkeypatch):
    """The connection drops right after the commit of the next command writing an answer: the commit landed, the bot
    cannot know; `stay_away` keeps the database away from that moment until the test brings it back."""
    outage, real_commit = Outage(world.bot.engine), Session.commit
    state = {"armed": True, "stay_away": False}

    def commit(session):
        writes_answer = any(isinstance(o, Outbox) and o.kind == "answer" for o in session.new)
        real_commit(session)
        if writes_answer and state["armed"]:
            state["armed"] = False
            outage.down = state["stay_away"]
            raise OperationalError("COMMIT", {}, ConnectionError("server closed the connection unexpectedly"))

    monkeypatch.setattr(Session, "commit", commit)
    return outage, state


@pytest.mark.parametrize("stay_away", [False, True])
async def test_a_command_whose_commit_landed_unconfirmed_gets_its_own_answer_once_and_no_nothing_was_changed(
    world, fake, monkeypatch, dropping, stay_away
):
    monkeypatch.setattr(matrix_sync, "BACKOFF_FIRST", 0.01)
    outage, state = dropping
    state["armed"] = False
    fake.push(join={CRISIS: [fake.message("@alice:test", "!crisis declare outage sev3 Checkout slow")]})
    await world.until(lambda: any(a.startswith("Declared") for a in notices(fake)), what="the declaration")
    before = len(notices(fake))
    state.update(armed=True, stay_away=stay_away)
    asked = len(fake.syncs)
    token = fake.push(join={CRISIS: [fake.message("@alice:test", "!crisis #1 task Call the supplier back")]})
    await without_delivery(lambda: len(fake.syncs) >= asked + 3)  # decided, or its batch fetched again while unknown
    assert notices(fake)[before:] == [] or not stay_away  # nothing is said while nobody can tell
    outage.down = False
    await world.until(lambda: load_token(world.bot.engine, fake.user_id) == token, what="the batch decided")
    world.clock.advance(world.bot.lease + timedelta(seconds=1))  # a held answer's lease runs out: the outbox sends it
    await world.until(lambda: len(notices(fake)) > before, what="the task's answer")
    await world.bot.deliver()
    said = notices(fake)[before:]
    assert len(said) == 1 and "cannot be reached" not in said[0] and "Added item" in said[0], said


async def test_a_crisis_room_named_by_alias_takes_commands_even_if_the_alias_did_not_resolve_at_start(fake, database):
    config = matrix_team()
    config.matrix.crisis_room = "#crisis:test"
    fake.aliases["#crisis:test"] = CRISIS
    fake.refuse["alias"] = [(502, {"errcode": "M_UNKNOWN", "error": "bad gateway"})]  # the first resolution, at start
    world = await MatrixWorld(fake, database, config=config).start()
    try:
        fake.push(join={CRISIS: [fake.message("@alice:test", "!crisis list")]})
        await world.until(lambda: notices(fake), what="the answer in the crisis room")
    finally:
        await world.stop()
        world.bot.engine.dispose()
