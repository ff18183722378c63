"""Prometheus metrics: one registry per process (so tests stay isolated), queue depths read from the database at scrape time."""

import logging

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Engine, func
from sqlmodel import select

from handlers.catalog import registry
from handlers.core.ports import Command, Reply
from handlers.nudges.firing import ACTIVE
from storage.db import session
from storage.models import Nudge, Outbox

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)


class Metrics:
    """The counters a process keeps, and the gauges it reads from the database when scraped."""

    def __init__(self, engine: Engine):
        self.registry = CollectorRegistry(auto_describe=True)
        self.commands = Counter(
            "onevoice_commands",
            "Commands handled, by verb and outcome (ok, refused, usage, error, duplicate)",
            ["verb", "outcome"],
            registry=self.registry,
        )
        self.delivery_latency = Histogram(
            "onevoice_delivery_latency_seconds",
            "From an effect queued to it sent, by platform and kind",
            ["platform", "kind"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.nudges = Counter("onevoice_nudges_fired", "Nudges that spoke, by kind", ["kind"], registry=self.registry)
        self.http = Counter("onevoice_http_requests", "HTTP requests, by route and status", ["path", "status"], registry=self.registry)
        self.registry.register(_Queues(engine))

    def command(self, command: Command, reply: Reply) -> None:
        self.commands.labels(verb_of(command.text), outcome_of(reply)).inc()

    def render(self) -> bytes:
        """The exposition text (this reads the database: call it off the event loop)."""
        return generate_latest(self.registry)


def verb_of(raw: str) -> str:
    """The verb a command text names (a bounded set of label values: unknown words are 'unknown')."""
    words = raw.split()
    if words and words[0].startswith("#"):
        words = words[1:]
    if not words:
        return "help"
    return registry().aliases.get(words[0].lower(), "unknown")


def outcome_of(reply: Reply) -> str:
    """ok, refused, usage, error (set by the router), or duplicate (a redelivery answered from the dedup log)."""
    if reply.duplicate:
        return "duplicate"
    return reply.outcome or ("ok" if reply.ok else "refused")


class _Queues:
    """Outbox depth by platform and state, and nudges waiting: cheap COUNTs at each scrape."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def describe(self):
        return []  # read at scrape time only: registering must not touch the database

    def collect(self):
        outbox = GaugeMetricFamily("onevoice_outbox_depth", "Effects waiting (pending) or given up (failed)", labels=["platform", "state"])
        nudges = GaugeMetricFamily("onevoice_nudges_pending", "Nudges still to fire (pending or snoozed)")
        try:
            with session(self.engine) as db:
                rows = db.exec(
                    select(Outbox.platform, Outbox.state, func.count())
                    .where(Outbox.state.in_(("pending", "failed")))
                    .group_by(Outbox.platform, Outbox.state)
                ).all()
                waiting = db.exec(select(func.count()).select_from(Nudge).where(Nudge.state.in_(ACTIVE))).one()
        except Exception as error:  # noqa: BLE001  (a scrape during a database outage still shows the counters)
            log.warning("queue depths unavailable: %s", type(error).__name__)
            return
        for platform, state, count in rows:
            outbox.add_metric([platform, state], count)
        nudges.add_metric([], waiting)
        yield outbox
        yield nudges
