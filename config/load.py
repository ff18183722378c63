"""Read onevoice.yaml over the shipped defaults; name each error with its line."""

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from config.model import Config

DEFAULTS = Path(__file__).parent / "defaults"
STARTER = DEFAULTS / "onevoice.yaml"


@dataclass
class ConfigProblem:
    """One error in a config file, with its place."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        place = f"{self.file}:{self.line}" if self.line else self.file
        return f"{place}: {self.path or '(top level)'}: {self.message}"


class ConfigError(Exception):
    """The config file is invalid; carries every problem found."""

    def __init__(self, problems: list[ConfigProblem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def _read_yaml(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def shipped_defaults() -> dict:
    """The defaults every config starts from: roles, severities, playbooks."""
    playbooks = {p.stem: _read_yaml(p) for p in sorted((DEFAULTS / "playbooks").glob("*.yaml"))}
    return {
        "team": {"roles": _read_yaml(DEFAULTS / "roles.yaml"), "people": {}},
        "severities": _read_yaml(DEFAULTS / "severities.yaml"),
        "playbooks": playbooks,
        "vet": {p.stem: _read_yaml(p) for p in sorted((DEFAULTS / "vet").glob("*.yaml"))},
        "signals": _read_yaml(DEFAULTS / "signals.yaml"),
    }


def merge(base: dict, override: dict) -> dict:
    """Deep-merge override into base: mappings merge key by key, anything else replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _line_of(root: yaml.Node | None, path: tuple) -> int | None:
    """The 1-based line of the deepest node of the file that the path reaches."""
    node, line = root, None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            line = node.start_mark.line + 1
            match = [(k, v) for k, v in node.value if k.value == str(part)]
            if not match:
                return line
            key, node = match[0]
            line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _expected(error: ErrorDetails) -> str:
    """A reader-friendly sentence from a pydantic error."""
    kind, message = error["type"], error["msg"]
    if kind == "extra_forbidden":
        return "unknown key (check its spelling)"
    if kind == "missing":
        return "required key is missing"
    if kind == "literal_error":
        return message.replace("Input should be", "expected")
    return message.removeprefix("Value error, ")


def parse_config(text: str, filename: str = "onevoice.yaml") -> Config:
    """Parse config text over the defaults; raise ConfigError listing every problem."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise ConfigError([ConfigProblem(filename, line, "", f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from None
    if not isinstance(data, dict):
        raise ConfigError([ConfigProblem(filename, 1, "", "expected a mapping of keys (language:, team:, …)")])
    merged = merge(shipped_defaults(), data)
    problems = [
        ConfigProblem(filename, _line_of(root, path), ".".join(map(str, path)), message) for path, message in reference_problems(merged)
    ]
    try:
        config = Config.model_validate(merged)
    except ValidationError as exc:
        problems = [
            ConfigProblem(filename, _line_of(root, e["loc"]), ".".join(map(str, e["loc"])), _expected(e)) for e in exc.errors()
        ] + problems
    if problems:
        raise ConfigError(sorted(problems, key=lambda p: p.line or 0))
    return _with_scenarios(config, filename)


def _with_scenarios(config: Config, filename: str) -> Config:
    """Check the drill scenarios now, so a broken file stops the start, not a drill; a relative folder is the config's."""
    from config.scenarios import check_scenarios  # it builds on this module's errors

    if config.scenarios_dir:
        config.scenarios_dir = str(Path(filename).parent / config.scenarios_dir)
    problems = check_scenarios(config)
    if problems:
        raise ConfigError(problems)
    return config


def _mapping(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _names(value: object) -> list:
    return value if isinstance(value, list) else []


def reference_problems(data: dict) -> list[tuple[tuple, str]]:
    """Every role or person named in the raw config that does not exist, as (path, message)."""
    found: list[tuple[tuple, str]] = []
    team = _mapping(data.get("team"))
    roles, people = _mapping(team.get("roles")), _mapping(team.get("people"))

    def check_role(path: tuple, role: object) -> None:
        if isinstance(role, str) and role not in roles:
            found.append((path, f"unknown role {role!r}; expected one of {', '.join(roles)}"))

    for key, person in people.items():
        for i, role in enumerate(_names(_mapping(person).get("roles"))):
            check_role(("team", "people", key, "roles", i), role)
    for key, role in roles.items():
        backup = _mapping(role).get("backup")
        if backup is not None and backup not in people:
            found.append((("team", "roles", key, "backup"), f"unknown person {backup!r}"))
    for key, playbook in _mapping(data.get("playbooks")).items():
        playbook = _mapping(playbook)
        for i, item in enumerate(_names(playbook.get("checklist"))):
            check_role(("playbooks", key, "checklist", i, "owner"), _mapping(item).get("owner"))
        for field in ("required_roles", "approvers"):
            for sev, names in _mapping(playbook.get(field)).items():
                for i, role in enumerate(_names(names)):
                    check_role(("playbooks", key, field, sev, i), role)
    return found


def load_config(path: str | Path | None) -> Config:
    """Load a config file, or the shipped starter config when no path is given."""
    source = Path(path) if path else STARTER
    return parse_config(source.read_text(encoding="utf-8"), str(source))
