"""Who an @mention names on Telegram (issue 15 finding 4, issue 14): person keys win over learned user names, a learned
name survives a restart, and a changed name replaces the old one — through the real webhook."""

import logging

from tests.bot.telegram_world import ALICE, DAVE, TelegramWorld


def declared(world: TelegramWorld) -> None:
    world.command(ALICE, "/crisis declare product-quality sev2 Battery overheating")


def assign(world: TelegramWorld, role: str, mention: str) -> str:
    """Alice assigns a role by mention, privately; what she is told."""
    world.command(ALICE, f"/crisis #1 assign {role} {mention}", chat=ALICE)
    return world.said_to(ALICE)[-1]


def test_a_person_key_wins_over_a_members_telegram_username_which_is_not_learned(world, caplog):
    declared(world)
    with caplog.at_level(logging.WARNING, logger="bot.app"):
        world.command(DAVE, "/crisis list", chat=DAVE, username="erin")  # Dave's Telegram username is another member's key
    assert any("@erin" in r.getMessage() and "not learned" in r.getMessage() for r in caplog.records)
    assign(world, "legal", "@erin")
    status = world.status()
    assert "Legal counsel: Erin Liu" in status and "Legal counsel: Dave Zhang" not in status


def test_a_key_wins_even_over_a_name_learned_before_the_key_existed(database, tmp_path):
    first = TelegramWorld(database)
    try:
        declared(first)
        first.command(DAVE, "/crisis list", chat=DAVE, username="frank")  # learned: nobody's key is frank yet
        assert "Dave Zhang" in assign(first, "scribe", "@frank")
    finally:
        first.close()
    people = dict(first.config.team.people)
    people["frank"] = people["erin"].model_copy(update={"key": "frank", "name": "Frank Wu", "telegram": 100077, "roles": ["legal"]})
    config = first.config.model_copy(update={"team": first.config.team.model_copy(update={"people": people})})
    second = TelegramWorld(database, config=config, restart=1)  # Frank joins the team: @frank is Frank from now on
    try:
        assign(second, "legal", "@frank")
        status = second.status()
        assert "Legal counsel: Frank Wu" in status and "Legal counsel: Dave Zhang" not in status
    finally:
        second.close()


def test_a_learned_username_survives_a_restart_and_a_changed_one_replaces_it(database):
    first = TelegramWorld(database)
    try:
        declared(first)
        first.command(DAVE, "/crisis list", chat=DAVE, username="dz_on_tg")
    finally:
        first.close()
    restarted = TelegramWorld(database, restart=1)  # a new process on the same database: handles synced from the config again
    try:
        assert "Dave Zhang" in assign(restarted, "spokesperson", "@dz_on_tg")  # at once, before Dave says anything
        assert "Spokesperson: Dave Zhang" in restarted.status()
        restarted.command(DAVE, "/crisis list", chat=DAVE, username="Dave_Renamed")
        assert "@dz_on_tg is not a member of the team" in assign(restarted, "liaison", "@dz_on_tg")
        assert "Dave Zhang" in assign(restarted, "liaison", "@dave_renamed")  # Telegram names are case-insensitive
        assert "External liaison: Dave Zhang" in restarted.status()
        restarted.command(DAVE, "/crisis list", chat=DAVE, username="dz_on_tg")  # and back to the first name
        assert "@dave_renamed is not a member of the team" in assign(restarted, "scribe", "@dave_renamed")
        assert "Dave Zhang" in assign(restarted, "monitor", "@dz_on_tg")
    finally:
        restarted.close()
