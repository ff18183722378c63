"""Drill scenarios: YAML files of timed injects, validated, with errors that name the file and line."""

from datetime import timedelta
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, PrivateAttr, ValidationError, field_validator

from config.durations import Duration
from config.errors import ConfigError, ConfigProblem, by_cause, line_of, pydantic_problem, read_yaml
from config.model import Config, Localized, Severity, Strict

SHIPPED = Path(__file__).parent / "defaults" / "scenarios"
LONGEST_DRILL = timedelta(hours=24)  # an inject later than this is a typo: drills last hours
InjectKind = Literal[
    "social_post",
    "journalist_call",
    "regulator_question",
    "volume_spike",
    "internal_leak",
    "customer_complaint",
    "partner_call",
    "family_call",
]
# How long the team has to answer an inject of each kind when the scenario does not say.
ANSWER_WITHIN = {
    "social_post": timedelta(minutes=15),
    "journalist_call": timedelta(minutes=20),
    "regulator_question": timedelta(minutes=30),
    "volume_spike": timedelta(minutes=10),
    "internal_leak": timedelta(minutes=15),
    "customer_complaint": timedelta(minutes=15),
    "partner_call": timedelta(minutes=30),
    "family_call": timedelta(minutes=10),
}


class Inject(Strict):
    """One scripted event: who says what, when, and how long the team has to answer it."""

    at: Duration  # after the drill starts
    kind: InjectKind
    source: Localized | str  # the author's handle, the outlet and reporter, the regulator's office, the colleague
    text: Localized  # the post, the question, the leak
    reach: int | None = Field(default=None, ge=0)  # followers, views or mentions
    deadline: Duration | None = None  # the caller's own deadline, from when the inject arrives
    answer_within: Duration | None = None
    volume: float | None = Field(default=None, ge=0)  # public reaction it stands for (PRODUCT.md §7): feeds the reaction chart
    sentiment: float | None = Field(default=None, ge=-1, le=1)

    @field_validator("at")
    @classmethod
    def _within_a_drill(cls, value: timedelta) -> timedelta:
        if value > LONGEST_DRILL:
            raise ValueError(f"an inject at most {LONGEST_DRILL.days}d after the start, got {value}")
        return value

    def answer_span(self) -> timedelta:
        """How long after arriving the inject should be answered."""
        return self.answer_within or self.deadline or ANSWER_WITHIN[self.kind]

    def source_in(self, language: str) -> str:
        """The source in a language (handles are the same in every language)."""
        return self.source if isinstance(self.source, str) else self.source.get(language)


class Scenario(Strict):
    """A drill: the crisis it rehearses and its injects, in time order."""

    key: str = ""
    playbook: str
    title: Localized
    description: Localized
    severity: Severity = "sev2"
    default: bool = False  # the playbook's drill when none is named
    injects: list[Inject] = Field(min_length=1, max_length=30)
    _file: str = PrivateAttr("")

    @field_validator("injects")
    @classmethod
    def _in_time_order(cls, injects: list[Inject]) -> list[Inject]:
        return sorted(injects, key=lambda inject: inject.at)


def parse_scenario(text: str, filename: str) -> Scenario:
    """One scenario from YAML text; raise ConfigError naming the file and line of each problem."""
    root, data = read_yaml(text, filename)
    if not isinstance(data, dict):
        raise ConfigError([ConfigProblem(filename, 1, "", "expected a mapping: playbook:, title:, description:, injects:")])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = [pydantic_problem(filename, line_of(root, e["loc"]), e) for e in exc.errors()]
        raise ConfigError(by_cause(problems)) from None
    scenario.key, scenario._file = Path(filename).stem, filename
    return scenario


def _read_folder(folder: Path) -> dict[str, Scenario]:
    if not folder.is_dir():
        raise ConfigError([ConfigProblem(str(folder), None, "scenarios_dir", "no such folder")])
    found, problems = {}, []
    for path in sorted(folder.glob("*.yaml")):
        try:
            found[path.stem] = parse_scenario(path.read_text(encoding="utf-8"), str(path))
        except ConfigError as error:
            problems += error.problems
    if problems:
        raise ConfigError(problems)
    return found


def load_scenarios(folder: str | None = None) -> dict[str, Scenario]:
    """The shipped scenarios, then the team's own from a folder (a team file replaces a shipped one of the same name)."""
    scenarios = _read_folder(SHIPPED)
    if folder:
        scenarios.update(_read_folder(Path(folder)))
    return scenarios


def scenarios_of(config: Config) -> dict[str, Scenario]:
    """A configuration's drill scenarios, read once per loaded configuration (load_config reads them while checking them)."""
    if config._scenarios is None:
        config._scenarios = load_scenarios(config.scenarios_dir)
    return config._scenarios


def check_scenarios(config: Config) -> list[ConfigProblem]:
    """Every problem in the scenario files, and every scenario whose playbook does not exist, named by file and line."""
    try:
        scenarios = scenarios_of(config)
    except ConfigError as error:
        return error.problems
    problems = []
    for scenario in scenarios.values():
        if scenario.playbook not in config.playbooks:
            root = yaml.compose(Path(scenario._file).read_text(encoding="utf-8"))
            message = f"unknown playbook {scenario.playbook!r}; expected one of {', '.join(config.playbooks)}"
            problems.append(ConfigProblem(scenario._file, line_of(root, ("playbook",)), "playbook", message))
    return problems


def for_playbook(scenarios: dict[str, Scenario], playbook: str) -> list[Scenario]:
    """A playbook's scenarios, its default first."""
    mine = [s for s in scenarios.values() if s.playbook == playbook]
    defaults = [s for s in mine if s.default]
    first = defaults[-1] if defaults else None  # a team's default (read last) wins over the shipped one
    return [first, *(s for s in mine if s is not first)] if first else mine
