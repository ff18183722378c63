"""`GET /metrics` on the real `onevoice run`'s internal listener: what an operator's Prometheus scrapes after a few slash
commands; the public listener does not serve it."""

from prometheus_client.parser import text_string_to_metric_families

from tests.e2e import slack_process
from tests.e2e.slack_process import ALICE, BOB

slack_bot = slack_process.slack_bot


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


async def test_metrics_count_commands_deliveries_nudges_and_requests(slack_bot):
    room = await slack_bot.declare()
    await slack_bot.command(BOB, "ack", channel=room["id"])
    await slack_bot.command(ALICE, "#1 sev", channel=room["id"])  # usage: no severity given
    await slack_bot.command(ALICE, "frobnicate")
    await slack_bot.wait_for(lambda: slack_bot.pending_effects() == 0, 15, "the outbox drained")
    samples = await scrape(slack_bot)

    assert value(samples, "onevoice_commands_total", verb="declare", outcome="ok") == 1
    assert value(samples, "onevoice_commands_total", verb="ack", outcome="ok") == 1
    assert value(samples, "onevoice_commands_total", verb="sev", outcome="usage") == 1
    assert value(samples, "onevoice_commands_total", verb="unknown", outcome="refused") == 1
    assert value(samples, "onevoice_http_requests_total", path="/slack/events", status="200") == 4
    sent = slack_bot.query("SELECT kind, count(*) FROM outbox WHERE state = 'sent' AND result NOT LIKE '%coalesced%' GROUP BY kind")
    for kind, count in sent:  # every effect sent is one observation of its latency
        assert value(samples, "onevoice_delivery_latency_seconds_count", platform="slack", kind=kind) == count, kind
    waiting = slack_bot.query("SELECT count(*) FROM nudge WHERE state IN ('pending', 'snoozed')")[0][0]
    assert waiting > 0 and value(samples, "onevoice_nudges_pending") == waiting
    assert value(samples, "onevoice_outbox_depth", platform="slack", state="pending") in (None, 0)

    again = await scrape(slack_bot)  # the scrape itself is counted, under its route
    assert value(again, "onevoice_http_requests_total", path="/metrics", status="200") == 1


async def test_metrics_and_readiness_are_not_served_on_the_public_listener(slack_bot):
    for path in ("/metrics", "/readyz"):
        async with slack_bot.http.get(f"{slack_bot.url}{path}") as public:
            assert public.status == 404, path
    async with slack_bot.http.get(f"{slack_bot.url}/healthz") as alive:  # liveness stays public, for the load balancer
        assert alive.status == 200
    samples = await scrape(slack_bot)
    assert value(samples, "onevoice_http_requests_total", path="other", status="404") == 2
