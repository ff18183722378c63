"""Attack on Telegram HTML (issue 15): tags, entities and a hidden mention typed into every field that renders come out
as the characters typed — no link, no mention, no formatting the bot did not make — through the real webhook."""

import random

import pytest

from bot.telegram.render import split, to_html
from handlers.text.markup import fmt, lines, text
from tests.bot.telegram_world import ALICE, CAROL, TelegramWorld
from tests.fakes.telegram_updates import parse_html, utf16_len

EVIL = '<a href="tg://user?id=100002">Bob</a> <b>bold</b> &lt;i&gt; &amp; <tg-spoiler>x</tg-spoiler> https://evil.example'


@pytest.fixture
def world(tmp_path):
    world = TelegramWorld(f"sqlite:///{tmp_path / 'html.db'}")
    yield world
    world.close()


def test_html_typed_into_every_field_is_shown_as_typed(world):
    world.command(ALICE, f"/crisis declare product-quality sev2 {EVIL}")
    thread = max(world.fake.topics)
    for user, line in [
        (ALICE, f"/crisis task {EVIL} @carol in 30m"),
        (ALICE, f"/crisis update {EVIL}"),
        (ALICE, f"/crisis note {EVIL}"),
        (CAROL, f"/draft {EVIL}"),
        (ALICE, f"/crisis vet {EVIL}"),
        (ALICE, f"/crisis lesson + {EVIL}"),
        (ALICE, "/crisis history"),
        (ALICE, "/crisis tasks all"),
    ]:
        world.command(user, line, thread=thread)
    shown = [m for m in world.fake.messages if "evil.example" in m["plain"]]
    assert len(shown) >= 6
    for message in shown:
        assert EVIL in message["plain"] or EVIL[:40] in message["plain"], message["plain"]
        for entity in message.get("entities", []):
            assert entity["type"] not in ("text_link", "text_mention", "spoiler"), (entity, message["plain"])
            if entity.get("url"):
                assert "100002" not in entity["url"] and "evil" not in entity["url"]
    name = world.fake.topics[thread]["name"]
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")  # the topic's name is a slug of the title


def test_a_long_answer_full_of_escapes_and_bold_is_cut_where_telegram_can_still_read_every_piece():
    """Each piece of a split answer parses as Telegram HTML (no cut inside `&lt;` or a tag) and fits 4096 UTF-16 units."""
    rng = random.Random(15)
    for _round in range(60):
        words = ["<", "&", "😀", "x" * rng.randint(1, 50)]
        parts = [
            fmt("**{t}** ", t="<&>" * rng.randint(1, 30)) + text(rng.choice(words) * rng.randint(1, 40))
            for _ in range(rng.randint(50, 400))
        ]
        for piece in split(to_html(lines(*parts))):
            shown, _entities = parse_html(piece)
            assert utf16_len(shown) <= 4096
