"""Attack 3 on Telegram's unsettled commits: the memory of a command whose commit could not be confirmed is the process's
own, so a redelivery that reaches a restarted process (or another replica) while the database is still away was told
"nothing was changed", and then the command's own answer arrived too. A command that meets an unreachable database is now
left unacknowledged and unanswered (bot/outbox/unsure.py): only the database can say whether an earlier delivery of it
committed."""

from datetime import timedelta

from bot.outbox.unsettled import Unsettled
from bot.outbox.unsure import UNSURE_FOR
from tests.bot.telegram_world import ALICE
from tests.bot.test_telegram_commit_drop import TASK, UNREACHABLE, after_any_lease, connection, declared, new_answers, tasks, webhook

assert connection  # the fixture that drops the database connection at a commit, used by name below


def test_a_redelivery_to_a_restarted_process_while_the_database_is_away_is_not_told_nothing_was_changed(world, connection):
    declared(world)
    before = len(world.said_to(ALICE))
    update = world.fake.command_update(ALICE, TASK, chat_id=ALICE)

    post = webhook(world, update)

    connection.mode = "after"
    real_handle = world.bot.handle

    def handle_then_stay_away(command, answer=None):
        try:
            return real_handle(command, answer)
        finally:
            connection.down = 1000  # the database is away from the moment the commit dropped

    world.bot.handle = handle_then_stay_away
    assert world.run(post()) == 500  # not acknowledged: Telegram sends it again
    world.bot.handle = real_handle
    world.front.unsettled = Unsettled(world.bot.engine, "telegram", world.bot.worker)  # restarted: the memory is gone
    world.run(post())  # the redelivery, the database still away
    connection.down = 0
    after_any_lease(world)
    said = new_answers(world, before)
    assert tasks(world).count("Call the supplier back") == 1
    assert len(said) == 1 and UNREACHABLE not in said[0], said  # today: "nothing was changed", then "Added item …"


def test_a_command_sent_while_the_database_is_away_is_not_acknowledged_and_runs_once_when_it_is_back(world, connection):
    declared(world)
    before = len(world.said_to(ALICE))
    update = world.fake.command_update(ALICE, TASK, chat_id=ALICE)

    post = webhook(world, update)

    connection.down = 1000  # away before the command arrives: nothing of it can be decided, nor anything looked up
    assert world.run(post()) == 500  # Telegram sends it again
    assert world.run(post()) == 500
    assert new_answers(world, before) == []  # no guess ("nothing was changed") while nobody can tell
    connection.down = 0
    assert world.run(post()) == 200  # the redelivery once the database is back runs it
    assert world.run(post()) == 200  # and a later one changes nothing
    after_any_lease(world)
    said = new_answers(world, before)
    assert len(said) == 1 and said[0].startswith("Added item"), said
    assert tasks(world).count("Call the supplier back") == 1


def test_a_command_the_database_stays_away_for_is_told_after_two_minutes_that_nobody_could_tell(world, connection):
    declared(world)
    before = len(world.said_to(ALICE))
    update = world.fake.command_update(ALICE, TASK, chat_id=ALICE)

    post = webhook(world, update)

    connection.down = 10**9
    assert world.run(post()) == 500
    world.clock.advance(UNSURE_FOR + timedelta(seconds=1))
    assert world.run(post()) == 200  # acknowledged at last, with the truth: nobody could tell
    said = new_answers(world, before)
    assert len(said) == 1 and "could not tell whether your command was recorded" in said[0], said
    connection.down = 0
    assert "Call the supplier back" not in tasks(world)
