"""Fixtures of the Matrix end-to-end tests: one real Synapse per test session (per xdist worker), the team registered on
it once; per test, a bot user with its own space, crisis room and publish target, and `onevoice run` started on them.

Synapse comes from PyPI (the `test` extra installs `matrix-synapse`). Where it is not installed or does not start, the
tests skip saying why, except where ONEVOICE_REQUIRE_SYNAPSE is set (CI): there they fail.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

from tests.e2e.matrix.matrix_process import STRANGER, TEAM, Homeserver, MatrixBot
from tests.e2e.run_process import free_port, fresh_start
from tests.fakes.synapse_server import Limits, Synapse, SynapseError

NAMES = {"alice": "Alice Chen", "bob": "Bob Li", "carol": "Carol Wang", "dave": "Dave Zhang", "erin": "Erin Liu", STRANGER: "Mallory"}


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("ONEVOICE_REQUIRE_SYNAPSE"):
        pytest.fail(f"Synapse is required here (ONEVOICE_REQUIRE_SYNAPSE): {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def homeserver(tmp_path_factory, request):
    """A Synapse on loopback (SQLite, no federation), with the team and a stranger registered; stopped at the end."""
    if importlib.util.find_spec("synapse") is None:
        _skip_or_fail("matrix-synapse is not installed: pip install -e '.[test]' installs it")
    server = Synapse(tmp_path_factory.mktemp("synapse"), free_port(), Limits())
    try:
        server.start()
    except SynapseError as error:
        _skip_or_fail(f"Synapse could not be started: {error}")
    try:
        people = {name: server.register(name, displayname=NAMES[name]) for name in (*TEAM, STRANGER)}
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        if reporter is not None and capture is not None:  # shown as the session starts (xdist workers show nothing)
            with capture.global_and_fixture_disabled():
                reporter.write_line(f"Synapse started in {server.start_seconds:.1f}s on {server.url}")
        yield Homeserver(server, people)
    finally:
        server.stop()


@pytest.fixture
async def start_matrix_bot(homeserver, tmp_path, request):
    """A factory: `await start_matrix_bot(limited=False, extra=None, messages=None)` prepares the rooms and starts
    `onevoice run` (limited: under Synapse's rate limits, its messages under `messages` when given); every bot is stopped
    (its log checked for tracebacks) at the end of the test."""
    bots: list[MatrixBot] = []

    async def start(limited: bool = False, extra: dict | None = None, messages: Limits | None = None) -> MatrixBot:
        folder = tmp_path / f"bot{len(bots)}"
        folder.mkdir()
        bots.append(MatrixBot(folder, homeserver, limited=limited, extra=extra, messages=messages))
        bots[-1].fresh = fresh_start(request)  # a new interpreter if the test is marked `fresh_start`, else forked
        await bots[-1].prepare()
        return await bots[-1].start()

    yield start
    for bot in bots:
        await bot.stop()


@pytest.fixture
async def matrix_bot(start_matrix_bot) -> MatrixBot:
    """The starter team's bot on Synapse, not rate limited."""
    return await start_matrix_bot()
