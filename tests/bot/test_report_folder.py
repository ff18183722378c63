"""The review report goes to the folder the app was given at start, not to one read from the environment on delivery."""

import asyncio
from collections.abc import Callable, Iterator

import pytest

from bot.app import OneVoice
from bot.console.front import ConsoleAdapter
from config.settings import Settings
from handlers.text.i18n import speaking
from tests.conftest import Chat, seeded
from tests.handlers.report_timeline import scripted


class _Out:
    def __init__(self):
        self.text = ""

    def write(self, value: str) -> None:
        self.text += value

    def isatty(self) -> bool:
        return False


@pytest.fixture
def app(config, clock, tmp_path) -> Iterator[Callable[..., OneVoice]]:
    """Build the app as `onevoice run` does, from settings; its database is closed after the test."""
    built: list[OneVoice] = []

    def build(**settings: str) -> OneVoice:
        built.append(
            OneVoice(Settings(ONEVOICE_DATABASE_URL=seeded(f"sqlite:///{tmp_path / 'app.db'}"), **settings), config=config, clock=clock)
        )
        return built[-1]

    yield build
    for bot in built:
        bot.engine.dispose()


def test_the_report_is_written_where_the_app_was_told_at_start(app, clock, tmp_path, monkeypatch):
    given, later = tmp_path / "given", tmp_path / "later"
    bot = app(ONEVOICE_REPORTS_DIR=str(given))
    out = _Out()
    bot.attach(ConsoleAdapter(out))
    chat = Chat(bot.engine, bot.config, clock)
    room = scripted(chat, clock)
    assert chat.say("erin", "review", room).ok
    monkeypatch.setenv("ONEVOICE_REPORTS_DIR", str(later))  # changed after start: delivery must not read it
    with speaking("en"):
        asyncio.run(bot.deliverers["console"].deliver_pending())
    assert f"📄 Full report: {given / 'report-1.md'} · {given / 'report-1.html'}" in out.text
    assert (given / "report-1.html").stat().st_size > 5000 and (given / "report-1.md").exists()
    assert not later.exists()


def test_without_a_folder_the_report_goes_beside_the_database(app, clock, tmp_path, monkeypatch):
    monkeypatch.delenv("ONEVOICE_REPORTS_DIR", raising=False)
    bot = app()
    out = _Out()
    bot.attach(ConsoleAdapter(out))
    chat = Chat(bot.engine, bot.config, clock)
    assert chat.say("erin", "review", scripted(chat, clock)).ok
    monkeypatch.setenv("ONEVOICE_REPORTS_DIR", str(tmp_path / "later"))
    with speaking("en"):
        asyncio.run(bot.deliverers["console"].deliver_pending())
    assert f"📄 Full report: {tmp_path / 'reports' / 'report-1.md'}" in out.text
    assert (tmp_path / "reports" / "report-1.html").exists() and not (tmp_path / "later").exists()
