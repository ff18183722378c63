"""The team model, playbooks and timings as validated pydantic models (the shared basics are in basics.py, the broadcast
targets and stakeholder lists in audiences.py, the vetting rules in vetting.py; every name stays importable from here)."""

from datetime import time, timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from config.audiences import TOLD, BroadcastTarget, Contact, EmailAddress, StakeholderList, WebhookUrl, mail_address, told  # noqa: F401
from config.basics import (  # noqa: F401
    ACTIVE_PHASES,
    OPEN_PHASES,
    PHASES,
    SEVERITIES,
    TEMPLATE_KINDS,
    Language,
    Localized,
    MatrixRoom,
    MatrixUser,
    Severity,
    Strict,
    as_severity,
    known_timezone,
)
from config.durations import Duration
from config.vetting import VetRules

if TYPE_CHECKING:  # scenarios build on this module
    from config.scenarios import Scenario


class Role(Strict):
    """A role of the response team."""

    key: str = ""
    title: Localized
    duty: Localized
    approves: bool = False
    required: list[Severity] = Field(default_factory=list)
    backup: str | None = None


class Person(Strict):
    """A team member and their handles on each platform."""

    key: str = ""
    name: str
    timezone: str | None = None
    roles: list[str] = Field(default_factory=list)
    slack: str | None = None
    telegram: int | None = None
    console: str | None = None
    matrix: MatrixUser | None = None  # "@alice:example.org"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return value if value is None else known_timezone(value)

    @field_validator("slack", "console", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        return None if value is None else str(value)


class Timing(Strict):
    """The clock of a severity (PRODUCT.md §2)."""

    first_statement: Duration
    update_every: Duration
    approval_nudge: Duration
    review_within: Duration | None = None


class TimingOverride(Strict):
    """A partial Timing, as written in overrides."""

    first_statement: Duration | None = None
    update_every: Duration | None = None
    approval_nudge: Duration | None = None
    review_within: Duration | None = None


class ChecklistSpec(Strict):
    """A checklist item of a playbook."""

    title: Localized
    owner: str
    due: Duration
    phase: Literal["detected", "assessing", "responding", "recovering", "resolved"] = "responding"
    # The timeline event that fulfils the item: the command that logs it marks the item done (handlers/incident/checklist.py).
    done_by: Literal["draft", "approved", "published", "update", "assembled"] | None = None


class Playbook(Strict):
    """The plan for one kind of crisis."""

    key: str = ""
    title: Localized
    description: Localized | None = None
    severity: Severity = "sev2"
    required_roles: dict[Severity, list[str]] = Field(default_factory=dict)
    approvers: dict[Severity, list[str]] = Field(default_factory=dict)
    timings: dict[Severity, TimingOverride] = Field(default_factory=dict)
    checklist: list[ChecklistSpec] = Field(default_factory=list)
    templates: dict[Literal["holding", "apology", "update", "clarification"], Localized] = Field(default_factory=dict)
    public_subject: Localized | None = None  # how templates name the matter in public ({subject}): never the incident title


class Team(Strict):
    """Roles and people."""

    roles: dict[str, Role] = Field(default_factory=dict)
    people: dict[str, Person] = Field(default_factory=dict)


class RoomHandles(Strict):
    """A room named on each platform."""

    slack: str | None = None
    telegram: str | int | None = None
    console: str | None = None
    matrix: MatrixRoom | None = None


class SlackOptions(Strict):
    """Slack-specific options."""

    command: str = "/crisis"
    private_rooms: bool = False


class TelegramOptions(Strict):
    """Telegram-specific options."""

    crisis_group: int | None = None


class MatrixOptions(Strict):
    """Matrix-specific options (PRODUCT.md §12): the space incident rooms are created in, and the crisis room."""

    space: MatrixRoom | None = None
    crisis_room: MatrixRoom | None = None


class QuietHours(Strict):
    """Night hours in each person's timezone: sev3–4 and post-incident reminders wait until they end."""

    start: time = time(22, 0)
    end: time = time(8, 0)


class SignalRule(Strict):
    """Which playbook (and severity) a signal suggests: its keywords, and optionally how loud and how negative it is."""

    playbook: str
    keywords: list[str] = Field(default_factory=list)  # any of them in the title, summary or keywords (case-insensitive)
    severity: Severity | None = None
    min_volume_ratio: float | None = None  # volume ≥ this × baseline
    max_sentiment: float | None = None  # sentiment ≤ this (−1 … 1)


class Signals(Strict):
    """Early warning (PRODUCT.md §7): triage rules, de-duplication and rate limits."""

    dedup_window: Duration = timedelta(hours=6)
    per_source_per_minute: int = Field(default=30, ge=1)
    default_playbook: str = "outage"
    urgent_volume_ratio: float = 3.0  # with negative sentiment: urgent (sev2), unless a rule says otherwise
    critical_volume_ratio: float = 10.0  # with clearly negative sentiment (≤ −0.5): sev1
    rules: list[SignalRule] = Field(default_factory=list)
    not_landing_ratio: float = Field(default=1.0, gt=0)  # negative volume in the hour after a publication ≥ this × the hour before
    not_landing_min_volume: float = Field(default=0.0, ge=0)  # …and at least this much: a trickle is not a statement failing


class Approvals(Strict):
    """How the line is approved (PRODUCT.md §4)."""

    one_person_many_roles: bool = False  # a very small team: one person may approve for every approver role they hold


CLAIM_ANSWER_WITHIN: dict[Severity, timedelta] = {
    "sev1": timedelta(minutes=30),
    "sev2": timedelta(hours=1),
    "sev3": timedelta(hours=4),
    "sev4": timedelta(days=1),
}


class Claims(Strict):
    """The claims (rumour) log's alert (PRODUCT.md §10): how wide a false claim may spread unanswered, and for how long."""

    reach_alert: int = Field(default=1000, ge=0)  # a false or partly false claim reaching this many needs an answer
    answer_within: dict[Severity, Duration] = Field(default_factory=lambda: dict(CLAIM_ANSWER_WITHIN))

    def within(self, severity: Severity) -> timedelta:
        """How long a wide false claim may stay unanswered at a severity (a severity left out keeps its default)."""
        return self.answer_within.get(severity) or CLAIM_ANSWER_WITHIN[severity]


class Config(Strict):
    """The whole configuration, after merging the shipped defaults."""

    language: Language = "en"
    timezone: str = "UTC"
    team: Team = Field(default_factory=Team)
    severities: dict[Severity, Timing] = Field(default_factory=dict)
    playbooks: dict[str, Playbook] = Field(default_factory=dict)
    slack: SlackOptions = Field(default_factory=SlackOptions)
    telegram: TelegramOptions = Field(default_factory=TelegramOptions)
    matrix: MatrixOptions = Field(default_factory=MatrixOptions)
    triage_room: RoomHandles | None = None
    stakeholder_rooms: list[RoomHandles] = Field(default_factory=list)
    broadcast: list[BroadcastTarget] = Field(default_factory=list)
    nudge_repeat_cap: int = Field(default=3, ge=1)
    quiet_hours: QuietHours = Field(default_factory=QuietHours)
    signals: Signals = Field(default_factory=Signals)
    vet: dict[Language, VetRules] = Field(default_factory=dict)
    scenarios_dir: str | None = None  # the team's own drill scenarios (YAML files), besides the shipped ones
    approvals: Approvals = Field(default_factory=Approvals)  # four eyes (§4) unless the team opts out
    claims: Claims = Field(default_factory=Claims)
    # A version's public headline when its draft gives none (PRODUCT.md §4): on the page, the feed and e-mail subjects.
    statement_headline: Localized = Field(default_factory=lambda: Localized(en="Official statement", zh="官方声明"))
    _scenarios: "dict[str, Scenario] | None" = PrivateAttr(None)  # read once, by config.scenarios.scenarios_of

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_timezone(value)

    @model_validator(mode="after")
    def _fill_keys(self) -> "Config":
        """Give each role, person and playbook its key from the mapping."""
        for group in (self.team.roles, self.team.people, self.playbooks):
            for key, item in group.items():
                item.key = key
        return self

    def timing(self, playbook: Playbook, severity: Severity) -> Timing:
        """The effective timing for a playbook at a severity."""
        base = self.severities[severity]
        override = playbook.timings.get(severity)
        if not override:
            return base
        return base.model_copy(update={k: v for k, v in override if v is not None})

    def required_roles(self, playbook: Playbook, severity: Severity) -> list[str]:
        """Roles that must be filled for this playbook at this severity."""
        if severity in playbook.required_roles:
            return list(playbook.required_roles[severity])
        return [key for key, role in self.team.roles.items() if severity in role.required]

    def approver_roles(self, playbook: Playbook, severity: Severity) -> list[str]:
        """Roles whose approval a statement needs at this severity (PRODUCT.md §4)."""
        if severity in playbook.approvers:
            return list(playbook.approvers[severity])
        return ["legal", "commander"] if severity in ("sev1", "sev2") else ["commander"]

    def people_for_role(self, role: str) -> list[Person]:
        """People who can hold a role, on call first."""
        return [p for p in self.team.people.values() if role in p.roles]

    stakeholders: "dict[str, StakeholderList]" = Field(default_factory=dict)  # PRODUCT.md §10: lists told by `notify`

    @model_validator(mode="after")
    def _stakeholder_keys(self) -> "Config":
        """Give each stakeholder list its key; a playbook it names must exist."""
        for key, audience in self.stakeholders.items():
            audience.key = key
            for name in audience.playbooks:
                if name not in self.playbooks:
                    raise told("onevoice_stakeholders_playbook", list=key, playbook=name, known=", ".join(self.playbooks))
        return self


Config.model_rebuild()
