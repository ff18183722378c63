"""The review metrics of PRODUCT.md §6, computed from an incident's recorded history alone.

Every figure is a pure function of the timeline, the role assignments, the statement versions and the checklist, plus
the instant the report is made (`now`, for an incident still running): the same history on a fake clock gives the same
numbers. Durations are exact `timedelta`s; rounding happens only when they are shown.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from config.model import PHASES, Config, Severity, as_severity

CHECKLIST_STATES = ("done", "skipped", "open")


@dataclass(frozen=True)
class Event:
    """One timeline entry, detached from the database."""

    at: datetime
    actor: str
    kind: str
    text: str
    data: dict


@dataclass(frozen=True)
class Holding:
    """One person holding one role for a span of the incident."""

    role: str
    person: str
    assigned_by: str
    assigned_at: datetime
    acked_at: datetime | None
    ended_at: datetime | None


@dataclass(frozen=True)
class Latency:
    """How long one version waited for its decision: outcome is approved, rejected, set_aside or pending."""

    version: int
    outcome: str
    drafted_at: datetime
    decided_at: datetime | None

    @property
    def wait(self) -> timedelta | None:
        """Drafted → approved or rejected; None for a version set aside unread or still pending."""
        if self.outcome not in ("approved", "rejected") or self.decided_at is None:
            return None
        return self.decided_at - self.drafted_at


@dataclass(frozen=True)
class Metrics:
    """The §6 figures of one incident (see each function for the exact definition)."""

    assembled_at: datetime | None
    assembled: timedelta | None
    first_statement_at: datetime | None
    first_statement: timedelta | None
    first_statement_version: int | None
    first_statement_target: timedelta
    approvals: list[Latency]
    cadence: timedelta
    cadence_windows: int
    cadence_kept: int
    checklist: dict[str, int]
    phases: dict[str, timedelta] = field(default_factory=dict)
    missed_updates: list[datetime] = field(default_factory=list)  # each update deadline that passed without one

    @property
    def cadence_percent(self) -> int | None:
        """Windows kept, in whole percent (half up); None when no window has ended yet."""
        return None if not self.cadence_windows else (200 * self.cadence_kept + self.cadence_windows) // (2 * self.cadence_windows)

    @property
    def first_statement_on_time(self) -> bool | None:
        """Whether the first approved statement met its target; None while there is none."""
        return None if self.first_statement is None else self.first_statement <= self.first_statement_target

    @property
    def checklist_percent(self) -> int | None:
        """Items closed (done or skipped with a reason) out of all items, in whole percent; None without items."""
        total = sum(self.checklist.values())
        closed = self.checklist["done"] + self.checklist["skipped"]
        return None if not total else (200 * closed + total) // (2 * total)


def severity_at(events: list[Event], moment: datetime) -> Severity:
    """The severity in force at `moment`: the declared one, changed by each `severity` event at or before it."""
    severity: object = ""
    for event in events:
        if event.at > moment:
            break
        if event.kind == "declared":
            severity = event.data.get("severity", severity)
        elif event.kind == "severity":
            severity = event.text
    return as_severity(severity)


def assembled_at(declared_at: datetime, required: list[str], holdings: list[Holding]) -> datetime | None:
    """Time to assemble ends at the first instant when every role required by the declared severity has a holder who acknowledged.

    At instant t a role counts when one of its assignments began at or before t, had not ended by t, and was acknowledged
    at or before t. Candidate instants are the acknowledgements themselves; None when that never happened.
    """
    if not required:
        return declared_at
    for moment in sorted({h.acked_at for h in holdings if h.acked_at is not None}):
        if all(
            any(
                h.role == role and h.assigned_at <= moment and h.acked_at is not None and h.acked_at <= moment
                for h in holdings
                if h.ended_at is None or h.ended_at > moment
            )
            for role in required
        ):
            return max(moment, declared_at)
    return None


def first_approval(events: list[Event]) -> tuple[datetime, int] | None:
    """The first `approved` event: when the incident first had an approved line, and which version."""
    for event in events:
        if event.kind == "approved":
            return event.at, int(event.data.get("version", 0))
    return None


def latencies(versions: list[tuple[int, datetime]], events: list[Event]) -> list[Latency]:
    """Per version: drafted → the `approved` or `rejected` event of that version; set aside when a later approval superseded it."""
    decided: dict[int, tuple[str, datetime]] = {}
    for event in events:
        number = event.data.get("version")
        if event.kind == "approved":
            decided.setdefault(int(event.data["version"]), ("approved", event.at))
            for dropped in event.data.get("set_aside") or ():
                decided.setdefault(int(dropped), ("set_aside", event.at))
        elif event.kind == "rejected" and number is not None:
            decided.setdefault(int(number), ("rejected", event.at))
    result = []
    for number, drafted_at in versions:
        outcome, at = decided.get(number, ("pending", None))
        result.append(Latency(number, outcome, drafted_at, at))
    return result


@dataclass(frozen=True)
class Cadence:
    """How the update promise was kept: the first cadence, the windows that ended, those kept, and each missed deadline."""

    first: timedelta
    windows: int
    kept: int
    missed: list[datetime]


def cadence_windows(config: Config, playbook: str, events: list[Event], start: datetime, end: datetime) -> Cadence:
    """Update cadence kept, window by window as the bot's own update clock ran them (the reminders it fired are misses).

    The clock promises an update one cadence after declaration and after each `update`. A deadline that passes with no
    update is a missed window, and the next window runs one cadence from that deadline (the reminder repeats at that
    pace). A severity change moves the deadline to the last update plus the new cadence (not before the change itself);
    resolve stops the clock and reopening restarts it. Only windows that ended by `end` count; an update at its deadline
    is on time; updates less than a cadence after the last one counted keep no extra window (a burst is one update).
    """
    first = _cadence(config, playbook, severity_at(events, start))
    severity = severity_at(events, start)
    since, deadline, live = start, start + first, True
    windows = kept = 0
    missed: list[datetime] = []
    counted: datetime | None = None  # the last update counted as a kept window: a burst of updates keeps one window

    def run_until(moment: datetime) -> None:
        nonlocal deadline, windows, counted
        while live and deadline < moment:
            windows += 1
            missed.append(deadline)
            deadline += _cadence(config, playbook, severity)
            counted = None

    for event in events:
        if event.at > end:
            break
        run_until(event.at)
        if event.kind == "update" and live:
            cadence = _cadence(config, playbook, severity)
            if counted is None or event.at >= counted + cadence:
                windows, kept, counted = windows + 1, kept + 1, event.at
            since, deadline = event.at, event.at + cadence
        elif event.kind == "severity":
            severity = as_severity(event.text)
            if live:
                deadline = max(event.at, since + _cadence(config, playbook, severity))
        elif event.kind == "phase" and event.text in ("resolved", "closed"):
            live = False
        elif event.kind == "phase" and not live:  # reopened: the clock starts again
            live, since = True, event.at
            deadline = event.at + _cadence(config, playbook, severity)
    run_until(end)
    return Cadence(first, windows, kept, missed)


def _cadence(config: Config, playbook: str, severity: Severity) -> timedelta:
    playbooks = config.playbooks
    return config.timing(playbooks[playbook], severity).update_every if playbook in playbooks else config.severities[severity].update_every


def first_statement_target(config: Config, playbook: str, events: list[Event], moment: datetime) -> timedelta:
    """The first-statement deadline of the severity in force at `moment` (the first approval, or now), as the golden-hour clock used."""
    severity = severity_at(events, moment)
    playbooks = config.playbooks
    timing = config.timing(playbooks[playbook], severity) if playbook in playbooks else config.severities[severity]
    return timing.first_statement


def phase_times(events: list[Event], declared_at: datetime, end: datetime) -> dict[str, timedelta]:
    """Time in each phase: from declaration in `detected`, switched by each `phase` event, until close (or `end`); reopened phases sum."""
    spent = {phase: timedelta(0) for phase in PHASES if phase != "closed"}
    phase, since = "detected", declared_at
    for event in events:
        if event.kind != "phase":
            continue
        spent[phase] = spent.get(phase, timedelta(0)) + (event.at - since)
        phase, since = event.text, event.at
        if phase == "closed":
            return spent
    spent[phase] = spent.get(phase, timedelta(0)) + max(end - since, timedelta(0))
    return spent


def compute(
    config: Config,
    *,
    playbook: str,
    declared_at: datetime,
    resolved_at: datetime | None,
    now: datetime,
    events: list[Event],
    holdings: list[Holding],
    versions: list[tuple[int, datetime]],
    checklist_states: list[str],
) -> Metrics:
    """All §6 metrics of one incident; `now` ends whatever is still running."""
    declared_severity = severity_at(events, declared_at)
    playbooks = config.playbooks
    required = config.required_roles(playbooks[playbook], declared_severity) if playbook in playbooks else []
    assembled = assembled_at(declared_at, required, holdings)
    first = first_approval(events)
    cadence = cadence_windows(config, playbook, events, declared_at, resolved_at or now)
    counts = {state: checklist_states.count(state) for state in CHECKLIST_STATES}
    return Metrics(
        assembled_at=assembled,
        assembled=assembled - declared_at if assembled else None,
        first_statement_at=first[0] if first else None,
        first_statement=first[0] - declared_at if first else None,
        first_statement_version=first[1] if first else None,
        first_statement_target=first_statement_target(config, playbook, events, first[0] if first else now),
        approvals=latencies(versions, events),
        cadence=cadence.first,
        cadence_windows=cadence.windows,
        cadence_kept=cadence.kept,
        checklist=counts,
        phases=phase_times(events, declared_at, now),
        missed_updates=cadence.missed,
    )
