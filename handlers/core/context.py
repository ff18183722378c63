"""What a handler works with: the session, the actor, the incident, and the outbox."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, cached_property

from sqlalchemy import insert
from sqlalchemy import inspect as orm_state
from sqlalchemy.engine import Row
from sqlmodel import Session, col, select

from config.model import Config, Person
from handlers.core.effects import DM, Effect, Post, RefreshCard
from handlers.core.holders import current_holders, roles_held
from handlers.core.ports import Clock, Command
from handlers.text.markup import Message
from storage.lanes import outbox_lane
from storage.models import Incident, Outbox, Room, TimelineEvent


@dataclass
class Deps:
    """What the composition root hands the domain: config, clock, and the active platforms."""

    config: Config
    clock: Clock
    platforms: list[str] = field(default_factory=list)  # in the order they were attached
    channels: set[str] = field(default_factory=set)  # outside channels attached ("mail", "webhook"): no rooms, no people
    public_url: str | None = None  # ONEVOICE_PUBLIC_URL: the page's public base address (PRODUCT.md §4)

    @cached_property
    def members(self) -> dict[tuple[str, str], str]:
        """Who each platform id belongs to: (platform, id) → person key, read once from the team model (the handle table
        is synced from it at start and the model does not change while the process runs)."""
        found: dict[tuple[str, str], str] = {}
        for person in self.config.team.people.values():
            for platform in ("slack", "telegram", "console", "matrix"):
                handle = handle_of(person, platform)
                if handle is not None:
                    found.setdefault((platform, handle), person.key)
        return found


@dataclass
class Context:
    """One command being handled inside one transaction."""

    session: Session
    deps: Deps
    command: Command
    actor: Person
    found: Incident | None = None  # the incident named (#N) or whose room this is, if any
    args: str = ""
    now: datetime = field(init=False)
    announced: bool = False
    logged: list[str] = field(default_factory=list)  # the timeline kinds this command wrote (checklist `done_by` reads them)
    read_along: Sequence[Row] | None = None  # the rows of the verb's `reads`, when read with the incident (None: read them yourself)

    def __post_init__(self) -> None:
        self.now = self.deps.clock.now()

    @property
    def incident(self) -> Incident:
        """The incident the verb works on: the router runs a verb that needs one only with one (the others read `found`)."""
        if self.found is None:
            raise LookupError("no incident here: a verb run without one reads ctx.found")
        return self.found

    @incident.setter
    def incident(self, incident: Incident) -> None:
        self.found = incident

    @property
    def config(self) -> Config:
        """The team's configuration."""
        return self.deps.config

    def person(self, key: str | None) -> Person | None:
        """A team member by key."""
        return self.config.team.people.get(key) if key else None

    def name(self, key: str | None) -> str:
        """A team member's display name, or the key itself."""
        person = self.person(key)
        return person.name if person else (key or "—")

    def acts_as(self, roles: tuple[str, ...]) -> bool:
        """Whether the actor holds one of the roles; the declarer stands in while no commander is named."""
        if roles_held(self.session, self.incident.id, self.actor.key) & set(roles):
            return True
        if "commander" in roles and self.incident.declared_by == self.actor.key:
            return "commander" not in current_holders(self.session, self.incident.id)
        return False

    def log(self, kind: str, text: str = "", **data: object) -> None:
        """Append to the incident's timeline."""
        incident_id, actor = self.incident.id, self.actor.key
        self.logged.append(kind)
        if orm_state(self.incident).pending:  # declared in this transaction, not yet flushed: the unit of work orders the inserts
            self.session.add(TimelineEvent(incident_id=incident_id, at=self.now, actor=actor, kind=kind, text=text, data=data))
        else:  # a plain INSERT of the row's values: building a model to dump it cost more than the statement (~75 µs)
            row = {"incident_id": incident_id, "at": self.now, "actor": actor, "kind": kind, "text": text, "data": data}
            self.session.execute(_timeline_insert(), row)

    def rooms(self) -> list[Room]:
        """The incident's rooms, one per platform."""
        return list(self.session.exec(select(Room).where(Room.incident_id == self.incident.id).order_by(col(Room.id))))

    def emit(self, platform: str, effect: Effect) -> Outbox:
        """Queue one effect for delivery on one platform; its outbox row."""
        return queue(self.session, self.found.id if self.found else None, platform, effect, self.now)

    def post(self, message: Message) -> None:
        """Post a message in the incident's room on every platform."""
        in_every_room(self.session, self.incident.id, self.now, Post(message))

    def announce(self, message: Message) -> Message:
        """Post in the incident room and let that post be the answer too."""
        self.post(message)
        self.announced = True
        return message

    def refresh_card(self) -> None:
        """Have the pinned card re-rendered and edited in place."""
        in_every_room(self.session, self.incident.id, self.now, RefreshCard())

    def dm(self, person_key: str, message: Message) -> None:
        """Send a direct message to a person on each active platform where they have a handle."""
        person = self.person(person_key)
        if person is None:
            return
        for platform in self.deps.platforms:
            handle = handle_of(person, platform)
            if handle:
                self.emit(platform, DM(message, to=handle))

    def post_to_rooms(self, rooms: list, message: Message) -> None:
        """Post to configured rooms outside the incident (stakeholders, triage)."""
        for handles in rooms:
            for platform in self.deps.platforms:
                target = getattr(handles, platform, None)
                if target is not None:
                    self.emit(platform, Post(message, to=str(target)))


def queue(session: Session, incident_id: int | None, platform: str, effect: Effect, now: datetime) -> Outbox:
    """Add an effect to the outbox, as its kind and JSON; it is delivered after the transaction commits."""
    row = Outbox(**outbox_values(incident_id, platform, effect, now, lane="room"))  # its lane is set just before the insert
    session.add(row)
    return row


def outbox_values(incident_id: int | None, platform: str, effect: Effect, now: datetime, lane: str | None = None) -> dict:
    """Every field of a new outbox row but the id (its lane worked out when not given): a bulk INSERT's values, or an Outbox."""
    # Every field given: SQLModel would look each missing default up through pydantic (inspecting the signature of each
    # default factory), which cost more than the row's INSERT.
    payload = effect.payload()
    return dict(
        incident_id=incident_id,
        platform=platform,
        kind=effect.kind,
        payload=payload,
        state="pending",
        attempts=0,
        created_at=now,
        next_attempt_at=now,
        sent_at=None,
        lease_until=None,
        lease_owner=None,
        result={},
        error=None,
        lane=lane or outbox_lane(effect.kind, payload),
    )


def in_every_room(session: Session, incident_id: int | None, now: datetime, effect: Effect) -> list[str]:
    """Queue one effect in the incident's room on every platform; the platforms it was queued on."""
    platforms = list(session.exec(select(Room.platform).where(Room.incident_id == incident_id).order_by(col(Room.id))))
    for platform in platforms:
        queue(session, incident_id, platform, effect, now)
    return platforms


def handle_of(person: Person, platform: str) -> str | None:
    """A person's id on a platform; on the console it is their key unless set."""
    if platform == "console":
        return person.console or person.key
    value = getattr(person, platform, None)
    return None if value is None else str(value)


@cache
def _timeline_insert():
    """The timeline's INSERT, built once (most commands write one)."""
    return insert(TimelineEvent.__table__)
