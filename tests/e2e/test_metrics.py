"""`GET /metrics` on the real `onevoice run`'s internal listener: what an operator's Prometheus scrapes after a few slash
commands; the public listener does not serve it."""

import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.slack_process import ALICE, BOB, quickly_paced

# One process serves both tests (a start and a stop cost seconds on a loaded machine): each compares what it scrapes
# with a scrape taken when it began, so neither counts the other's commands or requests.
shared = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def slack_bot(tmp_path_factory):
    """The starter team's bot on the fake Slack, over HTTP, for the whole module."""
    async with quickly_paced(tmp_path_factory.mktemp("metrics")) as bot:
        yield bot


async def scrape(bot) -> dict[tuple[str, tuple], float]:
    """Every sample as {(name, sorted labels): value}."""
    async with bot.http.get(f"{bot.admin_url}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        body = await response.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def grew(after: dict, before: dict, name: str, **labels) -> float:
    """How much a counter grew between two scrapes (a sample not there yet counts as 0)."""
    return (value(after, name, **labels) or 0) - (value(before, name, **labels) or 0)


def sent_by_kind(bot) -> dict[str, int]:
    sent = "SELECT kind, count(*) FROM outbox WHERE state = 'sent' AND result NOT LIKE '%coalesced%' GROUP BY kind"
    return dict(bot.query(sent))


@shared
async def test_metrics_count_commands_deliveries_nudges_and_requests(slack_bot):
    before, sent_before = await scrape(slack_bot), sent_by_kind(slack_bot)
    room = await slack_bot.declare()
    n = slack_bot.query("SELECT id FROM incident WHERE title = 'Battery overheating'")[0][0]
    await slack_bot.command(BOB, "ack", channel=room["id"])
    await slack_bot.command(ALICE, f"#{n} sev", channel=room["id"])  # usage: no severity given
    await slack_bot.command(ALICE, "frobnicate")
    await slack_bot.wait_for(lambda: slack_bot.pending_effects() == 0, 15, "the outbox drained")
    samples = await scrape(slack_bot)

    assert grew(samples, before, "onevoice_commands_total", verb="declare", outcome="ok") == 1
    assert grew(samples, before, "onevoice_commands_total", verb="ack", outcome="ok") == 1
    assert grew(samples, before, "onevoice_commands_total", verb="sev", outcome="usage") == 1
    assert grew(samples, before, "onevoice_commands_total", verb="unknown", outcome="refused") == 1
    assert grew(samples, before, "onevoice_http_requests_total", path="/slack/events", status="200") == 4
    sent = sent_by_kind(slack_bot)
    assert sent != sent_before
    for kind, count in sent.items():  # every effect sent is one observation of its latency
        observed = grew(samples, before, "onevoice_delivery_latency_seconds_count", platform="slack", kind=kind)
        assert observed == count - sent_before.get(kind, 0), kind
    waiting = slack_bot.query("SELECT count(*) FROM nudge WHERE state IN ('pending', 'snoozed')")[0][0]
    assert waiting > 0 and value(samples, "onevoice_nudges_pending") == waiting
    assert value(samples, "onevoice_outbox_depth", platform="slack", state="pending") in (None, 0)

    again = await scrape(slack_bot)  # the scrape itself is counted, under its route
    assert grew(again, samples, "onevoice_http_requests_total", path="/metrics", status="200") == 1


@shared
async def test_metrics_and_readiness_are_not_served_on_the_public_listener(slack_bot):
    before = await scrape(slack_bot)
    for path in ("/metrics", "/readyz"):
        async with slack_bot.http.get(f"{slack_bot.url}{path}") as public:
            assert public.status == 404, path
    async with slack_bot.http.get(f"{slack_bot.url}/healthz") as alive:  # liveness stays public, for the load balancer
        assert alive.status == 200
    samples = await scrape(slack_bot)
    assert grew(samples, before, "onevoice_http_requests_total", path="other", status="404") == 2
