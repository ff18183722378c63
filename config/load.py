"""Read onevoice.yaml over the shipped defaults; name each error with its line."""

import copy
import functools
from pathlib import Path

import yaml
from pydantic import ValidationError

from config.errors import FAST_LOADER, N_, ConfigError, ConfigProblem, by_cause, line_of, pydantic_problem, read_yaml
from config.model import TOLD, Config
from config.scenarios import check_scenarios

DEFAULTS = Path(__file__).parent / "defaults"
STARTER = DEFAULTS / "onevoice.yaml"


def _read_yaml(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=FAST_LOADER) or {}  # noqa: S506 (a safe loader)


def shipped_defaults() -> dict:
    """The defaults every config starts from: roles, severities, playbooks (a fresh copy: a merge may keep parts of it)."""
    return copy.deepcopy(_shipped())


@functools.cache
def _shipped() -> dict:
    """The shipped files, read once per process: they do not change while it runs."""
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


def parse_config(text: str, filename: str = "onevoice.yaml") -> Config:
    """Parse config text over the defaults; raise ConfigError listing every problem, causes first."""
    root, data = read_yaml(text, filename)
    if data is None:
        raise ConfigError([ConfigProblem.told(filename, None, "", N_("the file is empty; `onevoice init` writes a starter one"), rank=0)])
    if not isinstance(data, dict):
        template = N_("expected a mapping of keys (language:, team:, …)")
        raise ConfigError([ConfigProblem.told(filename, 1, "", template, rank=0)])
    merged = merge(shipped_defaults(), data)
    problems = [
        ConfigProblem(filename, line_of(root, path), ".".join(map(str, path)), message, rank=3)
        for path, message in reference_problems(merged)
    ]
    try:
        config = Config.model_validate(merged)
    except ValidationError as exc:
        problems += [_problem(filename, root, e) for e in exc.errors()]
    if problems:
        raise ConfigError(by_cause(problems))
    return _with_scenarios(config, filename)


def _problem(filename: str, root, error) -> ConfigProblem:
    """A validation error with its line; one of ours (type onevoice_…) keeps its template, so the shell translates it."""
    line, path = line_of(root, error["loc"]), ".".join(map(str, error["loc"]))
    if error["type"] in TOLD:
        return ConfigProblem.told(filename, line, path, TOLD[error["type"]], rank=_rank(error["loc"]), **error.get("ctx", {}))
    return pydantic_problem(filename, line, error, rank=_rank(error["loc"]))


def _rank(path: tuple) -> int:
    """A broken definition of a person or role is the cause of the errors that refer to it."""
    return 1 if path[:2] in (("team", "people"), ("team", "roles")) else 2


def _with_scenarios(config: Config, filename: str) -> Config:
    """Check the drill scenarios now, so a broken file stops the start, not a drill; a relative folder is the config's."""
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


def find_config(given: str | None, env: str | None) -> Path | None:
    """The file a command reads: the path given, else ONEVOICE_CONFIG, else ./onevoice.yaml; None means the demo team."""
    if path := given or env:
        return Path(path)
    local = Path("onevoice.yaml")
    return local if local.exists() or local.is_symlink() else None  # a dangling link is a broken file, not "no file"


def load_config(path: str | Path | None) -> Config:
    """Load a config file, or the shipped starter config when no path is given."""
    source = Path(path) if path else STARTER
    return parse_config(source.read_text(encoding="utf-8"), str(source))
