"""Early warning (PRODUCT.md §7): a signal becomes a triage message with a Declare button, once per dedup key."""

import hashlib
import math
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator
from sqlmodel import Session, col, func, select

from config.model import Config, Severity
from handlers.core.cleaning import cleaned
from handlers.core.context import Deps, in_every_room, queue
from handlers.core.effects import Edit, Post, RefreshCard
from handlers.desk import tracking as claims
from handlers.signals import attach, buckets
from handlers.signals.triage import carried, numbered, retell, triage_message  # noqa: F401  (moved to triage.py; still importable here)
from handlers.text.i18n import _, speaking
from handlers.text.markup import Message, fmt
from storage.models import Incident, Outbox, Signal


class SignalIn(BaseModel):
    """An alert as monitoring and social-listening tools send it."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    source: str = Field(min_length=1, max_length=80)
    title: str = Field(min_length=1, max_length=300)
    url: str | None = Field(default=None, max_length=1000, pattern=r"^https?://\S+$")
    summary: str = Field(default="", max_length=2000)
    volume: float | None = Field(default=None, ge=0)
    baseline: float | None = Field(default=None, ge=0)
    sentiment: float | None = Field(default=None, ge=-1, le=1)
    keywords: list[str] = Field(default_factory=list, max_length=50)
    dedup_key: str | None = Field(default=None, min_length=1, max_length=200)
    incident: StrictInt | None = Field(default=None, ge=1, le=2_000_000_000)  # the incident it is about (§7), if the sender knows
    claim: str | None = Field(default=None, pattern=r"^[cC][1-9][0-9]{0,8}$")  # a claim of that incident it adds reach to

    @field_validator("source", "title", "url", "summary", "dedup_key", mode="before")
    @classmethod
    def _clean_text(cls, value: object, info) -> object:
        # Before the length checks: a title of nothing but control characters is then empty, and refused.
        return cleaned(value, multiline=info.field_name == "summary") if isinstance(value, str) else value

    @field_validator("keywords", mode="before")
    @classmethod
    def _clean_keywords(cls, value: object) -> object:
        return [cleaned(word, multiline=False) if isinstance(word, str) else word for word in value] if isinstance(value, list) else value

    @field_validator("volume", "baseline", "sentiment", mode="before")
    @classmethod
    def _finite_number(cls, value: object) -> object:
        # JSON numbers only: "1e3" and true are not figures, and Infinity or 1e999 would print as "inf (nan×)".
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("must be a JSON number, not a string or true/false")
        try:
            figure = float(value)
        except OverflowError:
            figure = math.inf
        if not math.isfinite(figure):
            raise ValueError("must be a finite number")
        return figure

    @field_validator("keywords")
    @classmethod
    def _short_keywords(cls, words: list[str]) -> list[str]:
        if any(len(word) > 60 for word in words):
            raise ValueError("each keyword is at most 60 characters")
        return words

    def key(self) -> str:
        """The dedup key given, or one made of the source and title."""
        return self.dedup_key or hashlib.sha256(f"{self.source}\n{self.title}".encode()).hexdigest()[:32]


class RateLimited(Exception):
    """Too many signals from one source in the last minute."""


def classify(config: Config, signal: SignalIn) -> tuple[str, Severity]:
    """The playbook and severity the rules suggest (the first rule whose conditions all hold)."""
    rules = config.signals
    ratio = signal.volume / signal.baseline if signal.volume is not None and signal.baseline else None
    haystack = " ".join([signal.title, signal.summary, *signal.keywords]).casefold()
    for rule in rules.rules:
        if rule.keywords and not any(word.casefold() in haystack for word in rule.keywords):
            continue
        if rule.min_volume_ratio is not None and (ratio is None or ratio < rule.min_volume_ratio):
            continue
        if rule.max_sentiment is not None and (signal.sentiment is None or signal.sentiment > rule.max_sentiment):
            continue
        return rule.playbook, rule.severity or _loudness(config, ratio, signal.sentiment)
    return rules.default_playbook, _loudness(config, ratio, signal.sentiment)


def _loudness(config: Config, ratio: float | None, sentiment: float | None) -> Severity:
    negative = sentiment is not None and sentiment < 0
    if ratio is not None and sentiment is not None and sentiment <= -0.5 and ratio >= config.signals.critical_volume_ratio:
        return "sev1"
    if ratio is not None and negative and ratio >= config.signals.urgent_volume_ratio:
        return "sev2"
    return "sev3"


def receive(session: Session, deps: Deps, incoming: SignalIn) -> tuple[Signal, bool]:
    """Record a signal and tell the triage room, or update the one it repeats; return it and whether it is new."""
    now, config = deps.clock.now(), deps.config
    key = incoming.key()
    recent = session.exec(
        select(Signal).where(Signal.dedup_key == key, Signal.last_at >= now - config.signals.dedup_window).order_by(col(Signal.id).desc())
    ).first()
    if recent is None:
        since = now - timedelta(minutes=1)
        count = session.exec(select(func.count()).where(Signal.source == incoming.source, Signal.first_at >= since)).one()
        if count >= config.signals.per_source_per_minute:
            raise RateLimited(incoming.source)
    with speaking(config.language):
        if recent is not None:
            grown = (incoming.volume or 0) - (recent.volume or 0)
            _repeat(session, deps, recent, incoming, now)
            _add_to_claim(session, deps, recent, incoming, grown, now)
            session.commit()
            return recent, False
        playbook, severity = classify(config, incoming)
        fields = incoming.model_dump(exclude={"dedup_key", "incident", "claim"})
        signal = Signal(**fields, dedup_key=key, playbook=playbook, severity=severity, first_at=now, last_at=now)
        session.add(signal)
        session.flush()
        incident, how, also = attach.match(session, incoming.incident, key, incoming.keywords)
        link = attach.attach(session, signal, incident, how, also, now) if incident is not None else None
        offer = None if link is not None else attach.latest_open(session)
        signal.posts = _post_to_triage(session, deps, triage_message(config, signal, link, offer), now)
        session.add(signal)
        _add_to_claim(session, deps, signal, incoming, incoming.volume or 0, now)
        session.commit()
        return signal, True


def _repeat(session: Session, deps: Deps, signal: Signal, incoming: SignalIn, now: datetime) -> None:
    """The same alert again: count it, keep the latest figures, and edit the triage message in place."""
    signal.count += 1
    signal.last_at = now
    for name in ("volume", "baseline", "sentiment", "url"):
        if getattr(incoming, name) is not None:
            setattr(signal, name, getattr(incoming, name))
    session.add(signal)
    link = attach.link_of(session, signal.id)
    incident = session.get(Incident, link.incident_id) if link is not None else None
    if link is not None and incident is not None and incident.phase != "closed":  # seen again: a new reading of the reaction
        link.readings = buckets.merged(link.readings, buckets.record(session, incident, incoming.volume, incoming.sentiment, now))
        session.add(link)
    offer = None if link is not None else attach.latest_open(session)
    message = triage_message(deps.config, signal, link, offer)
    for outbox_id in signal.posts:
        posted = session.get(Outbox, outbox_id)
        if posted is not None:
            queue(session, None, posted.platform, Edit(message, ref=outbox_id), now)


def _add_to_claim(session: Session, deps: Deps, signal: Signal, incoming: SignalIn, added: float, now: datetime) -> None:
    """A signal naming a claim (`"claim": "c3"`) adds its volume to that claim's reach, and the claim's room is told."""
    incident_id = incoming.incident or signal.incident_id
    incident = session.get(Incident, incident_id) if incoming.claim and incident_id else None
    if incident is None or incoming.claim is None or added <= 0 or incident.phase == "closed" or incident.drill:
        return  # a drill's claims grow by its injects only, as its reaction does
    number, added = int(incoming.claim[1:]), min(added, claims.MOST_REACH)
    claim = claims.add_reach(session, deps.config, incident, number, int(added), now)
    if claim is None:  # the sender named a claim the incident does not have: say so rather than drop its reach unseen
        missing = _("📡 Signal {n} ({source}) names C{c}, which #{id} does not have: its reach was not added to any claim.")
        in_every_room(session, incident.id, now, Post(fmt(missing, n=signal.id, source=signal.source, c=number, id=incident.id)))
        return
    note = _("📡 Signal {n} ({source}) adds {added} to the reach of C{c}, now {reach}.")
    message = fmt(note, n=signal.id, source=signal.source, added=f"{int(added):,}", c=number, reach=f"{claim.reach:,}")
    in_every_room(session, incident.id, now, Post(message))
    in_every_room(session, incident.id, now, RefreshCard())  # its counts may have changed


def _post_to_triage(session: Session, deps: Deps, message: Message, now: datetime) -> list[int]:
    triage = deps.config.triage_room
    ids = []
    for platform in deps.platforms:
        room = getattr(triage, platform, None) if triage else None
        if room is None:
            continue
        row = queue(session, None, platform, Post(message, to=str(room)), now)
        session.flush()
        ids.append(row.id)
    return ids
