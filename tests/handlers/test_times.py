"""Times as a reader in a crisis needs them: the zone spelled out, the date unambiguous, the year when not this year."""

from datetime import UTC, datetime

import pytest

from handlers.text.formatting import moment_text
from handlers.text.i18n import speaking

MOMENT = datetime(2026, 12, 6, 6, 22, tzinfo=UTC)
NOW = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "language", "shown"),
    [
        ("Asia/Shanghai", "en", "14:22 Beijing time, 6 Dec"),
        ("Asia/Shanghai", "zh", "12月6日 北京时间 14:22"),
        ("America/Chicago", "en", "00:22 Central Standard Time, 6 Dec"),  # never "CST": China or US Central?
        ("Etc/GMT-8", "en", "14:22 GMT+8, 6 Dec"),  # no name fits: the offset
        ("Asia/Kolkata", "en", "11:52 India Standard Time, 6 Dec"),
    ],
)
def test_a_time_names_its_zone_and_its_day(config, zone, language, shown):
    team = config.model_copy(update={"timezone": zone, "language": language})
    with speaking(language):
        assert moment_text(team, MOMENT, NOW) == shown


def test_the_year_is_said_when_it_is_not_this_year(config):
    with speaking("en"):
        assert moment_text(config, MOMENT, datetime(2027, 1, 2, tzinfo=UTC)) == "14:22 Beijing time, 6 Dec 2026"
    with speaking("zh"):
        assert moment_text(config, MOMENT, datetime(2027, 1, 2, tzinfo=UTC)) == "2026年12月6日 北京时间 14:22"
