"""Did the statement land? (PRODUCT.md §7): attachment, the reaction chart, follow-ups and the not-landing nudge."""

import pytest

from tests.handlers.reaction_world import World


@pytest.fixture
def world(chat, clock) -> World:
    return World(chat, clock)


def test_a_signal_attaches_by_the_incident_it_names_by_dedup_key_and_by_keywords(world):
    named = world.signal(5, incident=1, dedup_key="pb20-weibo", volume=100, sentiment=-0.6, keywords=["PB-20"])
    assert "Attached to #1 (it names the incident). [Detach → #1 detach 1]" in named
    by_words = world.signal(20, title="Power bank smoke", volume=50, sentiment=-0.4, keywords=["pb-20", "smoke"])
    assert "Attached to #1 (shared keywords)." in by_words
    by_key = world.signal(70, title="Weibo again", dedup_key="pb20-weibo", volume=30, sentiment=-0.2)
    assert "Attached to #1 (same dedup key)." in by_key
    stray = world.signal(75, title="Printer jam", keywords=["printer"])
    assert "Attached" not in stray and "[Declare → declare --signal 4] [Attach to #1 → #1 attach 4]" in stray


def test_the_chart_gives_volume_and_mean_sentiment_per_hour_with_the_publication_marked(world, chat):
    world.signal(5, incident=1, dedup_key="a", volume=100, sentiment=-0.6, keywords=["PB-20"])
    world.signal(20, volume=50, sentiment=-0.4, keywords=["pb-20"], title="more")
    world.publish(60)
    world.signal(70, dedup_key="a", volume=30, sentiment=-0.2)
    world.at(130)
    chart = chat.say("erin", "reaction", world.room).message.plain()
    rows = [line.strip() for line in chart.splitlines() if line.lstrip().startswith("+")]
    assert rows == [
        "+0:00 ████████████     150  −0.50",
        "+1:00 ██                30  −0.20 ◀ v1 (newsroom, announcements, website)",
        "+2:00 ·                  0      —",
    ]
    assert "3 readings, per hour since the declaration" in chart
    assert "v1 went out +1:00: 1 h after, volume ×0.2 (150 → 30 an hour), sentiment −0.50 → −0.20." in chart
