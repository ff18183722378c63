"""Issue 15's findings replayed through the real Telegram update path (`POST /telegram/webhook`, PTB, our front, the
fake Bot API), on SQLite and PostgreSQL: each attack is refused where its sender can see it, nothing is posted in the
group, and the database holds exactly what it held before (every row of every table but the delivery queue and the
dedup log, which record that an answer was owed).
"""

import pytest
from sqlmodel import SQLModel, select

from bot.telegram.render import PROMPT_MARK
from storage.db import session
from storage.models import LearnedName, Lesson, Outbox, ProcessedEvent
from tests.bot.telegram_world import ALICE, CAROL, DAVE, GROUP, OUTSIDER, TelegramWorld

FORGED = "?x\nLegal: confirm the recall by replying OK\n/crisis #1 resolve"  # finding 1, within Telegram's 64 bytes
BOOKKEEPING = {Outbox.__tablename__, ProcessedEvent.__tablename__}


def rows(world: TelegramWorld) -> dict:
    """Every row of every table but the delivery queue and the dedup log."""
    tables = {}
    with world.bot.engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            if table.name not in BOOKKEEPING:
                tables[table.name] = [tuple(row) for row in connection.execute(table.select().order_by(*table.primary_key.columns))]
    return tables


def declared(world: TelegramWorld) -> int:
    """Alice declares #1 in the crisis group; the new topic's thread id."""
    world.command(ALICE, "/crisis declare product-quality sev2 Battery overheating")
    return max(world.fake.topics)


def test_finding_1_a_forged_question_from_an_outsider_and_the_commanders_ok_change_nothing(world):
    thread = declared(world)
    before, in_group = rows(world), len(world.in_group())
    answer = world.press(OUTSIDER, FORGED, chat=GROUP)
    assert "not in the team model" in answer["text"]
    world.reply(ALICE, world.in_group()[-1], "OK")  # the commander answers the last thing the bot said in the group
    assert len(world.in_group()) == in_group and not any("confirm the recall" in m["plain"] for m in world.fake.messages)
    assert rows(world) == before
    assert "phase detected" in world.status() and thread


def test_finding_2_thirty_forged_presses_post_nothing_and_store_nothing(world):
    declared(world)
    before, in_group = rows(world), len(world.in_group())
    answers = [world.press(OUTSIDER, FORGED, chat=GROUP) for _ in range(30)]
    assert all(answer is not None for answer in answers)  # every press is answered privately, on the button
    assert len(world.in_group()) == in_group
    assert rows(world) == before


@pytest.mark.parametrize("command", ["/crisis declare outage sev1 Second incident", "/crisis #1 task call the regulator"])
def test_finding_3_an_edited_command_runs_nothing_and_its_author_is_told_privately(world, command):
    declared(world)
    before, in_group = rows(world), len(world.in_group())
    update = world.fake.command_update(ALICE, "/crisis #1 note first")
    world.send({"update_id": update["update_id"], "edited_message": world.fake.command_update(ALICE, command)["message"]})
    assert "Editing a message does not run its command again" in world.said_to(ALICE)[-1]
    assert len(world.in_group()) == in_group
    assert rows(world) == before


def test_finding_4_a_username_equal_to_a_person_key_is_not_learned(world):
    declared(world)
    before = rows(world)
    world.command(DAVE, "/crisis #1 status", chat=DAVE, username="erin")  # Dave's username is Erin's person key
    assert rows(world) == before  # not learned
    world.command(ALICE, "/crisis #1 assign legal @erin", chat=ALICE)
    assert "Erin Liu" in world.said_to(ALICE)[-1] and "Dave" not in world.said_to(ALICE)[-1]
    with session(world.bot.engine) as db:
        assert not db.exec(select(LearnedName).where(LearnedName.name == "erin")).all()


@pytest.mark.parametrize(
    ("line", "told"),
    [
        ("/crisis #1 task Recall \x1b]0;pwned\x07now", "control"),  # finding 7: a terminal escape
        ("/crisis #1 note \u202eevil", "control"),  # finding 7: a right-to-left override
        ("/crisis #1 task neg in -5m", "“-5m” is not a duration"),  # finding 10
        ("/crisis #1 task frac in 1.5h", "“1.5h” is not a duration"),
        ("/crisis #1 action Brief retail partners @carol due 1999-01-01", "1999-01-01 is in the past"),
        ("/crisis #1 action Brief retail partners @carol due 2040-01-01", "2040-01-01 is too far away"),
        ("/crisis #1 sev 99999999999999999999", "Usage: /crisis sev"),
    ],
)
def test_findings_7_and_10_a_dirty_or_odd_command_is_refused_to_its_author_and_changes_nothing(world, line, told):
    thread = declared(world)
    before, in_group = rows(world), len(world.in_group())
    world.command(ALICE, line, thread=thread)
    assert told in world.said_to(ALICE)[-1], world.said_to(ALICE)[-1]
    assert len(world.in_group()) == in_group
    assert rows(world) == before


def test_finding_9_a_lesson_keeps_every_word_it_was_typed_with(world):
    thread = declared(world)
    world.command(ALICE, "/crisis resolve All clear", thread=thread)
    world.command(DAVE, "/crisis #1 lesson Legal review took too long on v1", chat=DAVE)
    with session(world.bot.engine) as db:
        assert [lesson.text for lesson in db.exec(select(Lesson))] == ["Legal review took too long on v1"]


def test_finding_1_a_reply_to_a_real_question_by_someone_else_changes_nothing(world):
    thread = declared(world)
    world.command(CAROL, "/draft We are sorry for the worry. Next update at 11:00.", thread=thread)
    dm = next(m for m in reversed(world.fake.messages_in(ALICE)) if "Draft v1" in m["plain"])
    reject = next(b["callback_data"] for row in dm["reply_markup"]["inline_keyboard"] for b in row if b["text"].startswith("Reject"))
    world.press(ALICE, reject, dm)
    question = world.fake.messages_in(ALICE)[-1]
    assert question["plain"].startswith(PROMPT_MARK)
    before = rows(world)
    world.reply(CAROL, question, "Rejected by someone else")
    world.reply(OUTSIDER, question, "Rejected by an outsider")
    assert rows(world) == before


@pytest.mark.parametrize(
    "dodge",
    [
        "no\ncomment",  # a line break inside the phrase
        "no  comment",  # a double space
        "no comme\u0301nt",  # a combining mark
        "no com\u180ement",  # the Mongolian vowel separator
        "no com\U000e0041ment",  # a tag character
        "no\u3164comment",  # the Hangul filler, drawn as a space
        "no\u2800comment",  # blank Braille, drawn as a space
        "no c\u0585mment",  # Armenian օ
        "no c\u1d0fmment",  # small capital ᴏ
        "无 可 奉 告",  # spaces between Chinese characters
    ],
)
def test_finding_7_no_invisible_spacing_or_look_alike_hides_a_phrase_from_the_wording_check(world, dodge):
    thread = declared(world)
    world.command(CAROL, f"/crisis vet We are sorry. We have {dodge} at this stage. Next update at 11:00.", thread=thread)
    checked = world.said_to(CAROL)[-1]
    assert "• “No comment”:" in checked, checked
