"""Problems in YAML files: duplicate keys, syntax errors in plain words, and where in the file each one is."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import yaml
from pydantic_core import ErrorDetails


def N_(message: str) -> str:
    """Mark a message for translation: config never imports handlers, so the shell translates what it prints."""
    return message


@dataclass
class ConfigProblem:
    """One error (or warning) in a config file, with its place."""

    file: str
    line: int | None
    path: str
    message: str
    column: int | None = None
    rank: int = 2  # what causes what: 0 the file itself, 1 a definition, 2 a value, 3 a reference to something defined
    template: str | None = None  # the message before formatting, marked N_, for the shell to translate
    args: dict = field(default_factory=dict)

    @classmethod
    def told(cls, file: str, line: int | None, path: str, template: str, **args) -> "ConfigProblem":
        """A problem whose message the shell can show in the team's language."""
        column, rank = args.pop("column", None), args.pop("rank", 2)
        return cls(file, line, path, template.format(**args), column, rank, template, args)

    def said(self, translate: Callable[[str], str] = str) -> str:
        """The problem with its place, its message translated when it has a template."""
        place = f"{self.file}:{self.line}" if self.line else self.file
        message = translate(self.template).format(**self.args) if self.template else self.message
        if self.column:
            message += " " + translate(N_("(column {column})")).format(column=self.column)
        return f"{place}: {self.path or '(top level)'}: {message}"

    def __str__(self) -> str:
        return self.said()


class ConfigError(Exception):
    """The config file is invalid; carries every problem found."""

    def __init__(self, problems: list[ConfigProblem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def by_cause(problems: list[ConfigProblem]) -> list[ConfigProblem]:
    """Causes before their knock-on errors (a mistyped person before the references to them), then in file order."""
    return sorted(problems, key=lambda p: (p.rank, p.line or 0, p.column or 0))


# PyYAML's wording → what a person should look at. Matched against the scanner's or parser's `problem` text.
_PLAIN = [
    (r"found character '\\t'", N_("not valid YAML: a tab character; indent with spaces only")),
    (
        r"mapping values are not allowed",
        N_("not valid YAML: a `key: value` where none can be; check this line's indentation, or quote a value that holds ': '"),
    ),
    (r"could not find expected ':'", N_("not valid YAML: a line is not `key: value`; add the colon, or check the indentation above")),
    (r"did not find expected key|expected <block end>", N_("not valid YAML: the indentation does not line up with the lines above")),
    (r"did not find expected '-' indicator", N_("not valid YAML: a list item does not line up with the items above it")),
    (r"expected ',' or '\]'", N_("not valid YAML: a list in [ ] is not closed; add the missing ]")),
    (r"expected ',' or '\}'", N_("not valid YAML: a mapping opened with a brace is not closed; add the missing closing brace")),
    (r"found unexpected end of stream|while scanning a quoted scalar", N_("not valid YAML: a quote is opened but never closed")),
    (r"found undefined alias", N_("not valid YAML: an *alias names no &anchor defined above it")),
    (r"found unknown escape character", N_("not valid YAML: an unknown backslash escape in double quotes; use single quotes")),
    (r"cannot start any token", N_("not valid YAML: a character that cannot start a value here; put the value in quotes")),
]


def plain_syntax_error(exc: yaml.YAMLError, filename: str) -> ConfigProblem:
    """A YAML syntax error as a sentence a person acts on, with line and column."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = str(getattr(exc, "problem", "") or exc)
    line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
    words = next((words for pattern, words in _PLAIN if re.search(pattern, problem)), None)
    if words is None:
        words, problem = N_("not valid YAML: {problem}"), problem[:200]
        return ConfigProblem.told(filename, line, "", words, problem=problem, column=column, rank=0)
    return ConfigProblem.told(filename, line, "", words, column=column, rank=0)


class _TooBig(Exception):
    """More values than any config holds once its aliases are expanded (a 300-byte alias bomb expands to billions)."""


MOST_VALUES = 100_000  # the shipped config and playbooks hold a few thousand
MOST_BYTES = 1_000_000


def _duplicates(node: yaml.Node | None, filename: str, path: tuple = (), budget: list[int] | None = None) -> list[ConfigProblem]:
    """Every key given twice in one mapping, with both lines (PyYAML keeps the last one silently)."""
    budget = [MOST_VALUES] if budget is None else budget
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooBig()
    found: list[ConfigProblem] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, yaml.Node] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if name is not None and name != "<<" and name in seen:
                first = seen[name].start_mark.line + 1
                where = ".".join(map(str, (*path, name)))
                line = key.start_mark.line + 1
                template = N_("“{key}” is given twice, at lines {first} and {second}; keep one of them")
                found.append(ConfigProblem.told(filename, line, where, template, key=name, first=first, second=line, rank=0))
            elif name is not None:
                seen[name] = key
            found += _duplicates(value, filename, (*path, name), budget)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found += _duplicates(item, filename, (*path, i), budget)
    return found


FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: for the shipped files only, which we wrote


def _construct(root: yaml.Node | None) -> object:
    """The data of a composed node tree: built from the tree already checked, so a text is parsed once, by one parser."""
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()


def read_yaml(text: str, filename: str) -> tuple[yaml.Node | None, object]:
    """The node tree (for lines) and the data of a YAML text; ConfigError for syntax errors and duplicate keys."""
    if len(text) > MOST_BYTES:
        raise ConfigError([ConfigProblem.told(filename, None, "", N_("too large to be a config file (over 1 MB)"), rank=0)])
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)  # Python's parser: its refusals are the ones we word
        duplicates = _duplicates(root, filename)
    except yaml.YAMLError as exc:
        raise ConfigError([plain_syntax_error(exc, filename)]) from None
    except RecursionError:  # thousands of nested [ or {: no config is shaped like that
        raise ConfigError([ConfigProblem.told(filename, None, "", N_("nested too deeply to be a config file"), rank=0)]) from None
    except _TooBig:
        template = N_("too many values once its repeated references (YAML aliases) are expanded to be a config file")
        raise ConfigError([ConfigProblem.told(filename, None, "", template, rank=0)]) from None
    if duplicates:
        raise ConfigError(duplicates)
    try:
        data = _construct(root)
    except yaml.YAMLError as exc:  # composed but not constructed: a bad tag or timestamp
        raise ConfigError([plain_syntax_error(exc, filename)]) from None
    except ValueError:  # an integer of thousands of digits: Python refuses to read it
        raise ConfigError([ConfigProblem.told(filename, None, "", N_("holds a number too long to be a setting"), rank=0)]) from None
    return root, data


def line_of(root: yaml.Node | None, path: tuple) -> int | None:
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


PYDANTIC = {  # pydantic's error types → the words we show (translated by the shell like every other problem)
    "extra_forbidden": N_("unknown key (check its spelling)"),
    "missing": N_("required key is missing"),
    "literal_error": N_("expected {expected}"),
    "string_type": N_("expected text"),
    "int_type": N_("expected a whole number"),
    "int_parsing": N_("expected a whole number"),
    "float_type": N_("expected a number"),
    "float_parsing": N_("expected a number"),
    "bool_type": N_("expected true or false"),
    "bool_parsing": N_("expected true or false"),
    "dict_type": N_("expected a mapping of keys"),
    "model_type": N_("expected a mapping of keys"),
    "list_type": N_("expected a list"),
}


def expected(error: ErrorDetails) -> str:
    """A reader-friendly sentence from a pydantic error (in English; `pydantic_problem` keeps it translatable)."""
    template, args = _words(error)
    return template.format(**args)


def pydantic_problem(filename: str, line: int | None, error: ErrorDetails, rank: int = 2) -> ConfigProblem:
    """One pydantic error as a problem with its place, its words translatable."""
    template, args = _words(error)
    return ConfigProblem.told(filename, line, ".".join(map(str, error["loc"])), template, rank=rank, **args)


def _words(error: ErrorDetails) -> tuple[str, dict]:
    kind = error["type"]
    if kind in PYDANTIC:
        return PYDANTIC[kind], {"expected": _choices(error)} if kind == "literal_error" else {}
    return "{message}", {"message": error["msg"].removeprefix("Value error, ")}  # our validators' own sentences


def _choices(error: ErrorDetails) -> str:
    """The allowed values as pydantic lists them ("'en' or 'zh'")."""
    return str((error.get("ctx") or {}).get("expected", "")) or error["msg"].removeprefix("Input should be ")
