"""The fuzzing profile (reproducible, no deadline), and what every fuzz test checks besides the database: no error logged,
every reply renders on Slack and Telegram."""

import logging
import os

import pytest
from hypothesis import HealthCheck, settings

from bot.slack.render import blocks
from bot.telegram.render import LIMIT, split, to_html
from handlers.text.markup import Message
from tests.fakes.slack_requests import block_errors
from tests.fakes.telegram_updates import html_to_text

# The same examples every time (derandomized). The counts in the tests are the quick default run's (a few hundred in all);
# ONEVOICE_FUZZ_SCALE multiplies them: .ci/run sets 3, over 5,000 inputs a run; higher explores further locally.
settings.register_profile(
    "onevoice-fuzz",
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
SCALE = float(os.environ.get("ONEVOICE_FUZZ_SCALE", "1"))


def examples(count: int) -> settings:
    """The fuzz profile with `count` examples (times ONEVOICE_FUZZ_SCALE)."""
    return settings(settings.get_profile("onevoice-fuzz"), max_examples=max(1, int(count * SCALE)))


class ErrorLog(logging.Handler):
    """Collects ERROR records (a `log.exception` in the bot is a bug the fuzzer found)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[str]:
        """The errors logged since the last take, with their tracebacks."""
        found = [f"{r.name}: {r.getMessage()}\n{self.format(r) if r.exc_info else ''}" for r in self.records]
        self.records.clear()
        return found


@pytest.fixture(scope="module")
def error_log():
    """ERROR records of every logger while the module's fuzz tests run."""
    handler = ErrorLog()
    handler.setFormatter(logging.Formatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


def assert_renders(message: Message) -> None:
    """The message is valid Block Kit for Slack and valid HTML within Telegram's limit, pieces included."""
    assert not block_errors(blocks(message), 50), block_errors(blocks(message), 50)
    for piece in split(to_html(message)):
        assert len(piece) <= LIMIT
        html_to_text(piece)  # raises when Telegram would refuse the markup
