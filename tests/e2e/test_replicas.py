"""Three `onevoice run` replicas on one PostgreSQL database behind one fake Slack: nothing lost, nothing twice.

200 signed slash commands are spread across the replicas (40 declares, 160 updates), 30 of them delivered a second
time to another replica as Slack's retries are; meanwhile 200 overdue-item reminders fall due for 250 people.
bench/replica_soak.py runs the same with 2,000 reminders (the load this test carried before the suite was made fast), at
Slack's real pace.
"""

from datetime import UTC, datetime, timedelta

from tests.conftest import private_schema
from tests.e2e.replica_run import exactly_once_run

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
REPLICAS, DECLARES, UPDATES, NUDGES, PEOPLE = 3, 40, 160, 200, 250
# Slack's one message a second per channel (the default, kept by the crash, intake, shutdown, outage, edge and socket
# e2e tests and tests/bot/test_slack_pace.py) is cut short here: the
# fake has no rate limit, and the 80 duty DMs the 40 declares send Alice would take 27 s at that pace on three replicas.
ENV = {"ONEVOICE_SLACK_PACE_SECONDS": "0.05"}


async def test_three_replicas_do_each_command_and_each_reminder_exactly_once(tmp_path):
    with private_schema() as (engine, url):
        found = await exactly_once_run(tmp_path, engine, url, NOW - timedelta(minutes=5), REPLICAS, DECLARES, UPDATES, NUDGES, PEOPLE, ENV)
    assert sorted(found.declared) == found.titles  # exactly one incident per declare, retries included
    assert len(found.rooms) == DECLARES and len(set(found.rooms)) == DECLARES
    assert found.states == {"sent": found.states.get("sent", 0)} and found.states["sent"] > NUDGES  # every effect delivered
    assert sorted(found.updates_in_rooms) == sorted(f"U{n:03d}" for n in range(UPDATES))  # each update once in its room
    assert sorted(int(n) for n in found.reminders) == list(range(1, NUDGES + 1))  # every reminder delivered…
    assert set(found.reminders.values()) == {1}  # …exactly once across the three replicas
    assert found.exit_codes == [0] * REPLICAS
