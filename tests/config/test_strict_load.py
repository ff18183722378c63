"""The strict loader: duplicate keys, an empty file, errors ordered by cause, YAML mistakes in plain words, warnings."""

import pytest

from config.errors import ConfigError
from config.gaps import Surroundings, gaps
from config.load import STARTER, parse_config


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "team.yaml")
    return [str(problem) for problem in caught.value.problems]


def test_a_duplicate_person_is_refused_naming_both_lines():
    text = "team:\n  people:\n    bob: {name: Bob Li, roles: [legal]}\n    bob: {name: Bob Two, roles: [exec]}\n"
    assert problems(text) == ["team.yaml:4: team.people.bob: “bob” is given twice, at lines 3 and 4; keep one of them"]


def test_a_duplicate_top_level_key_is_refused_at_the_second_line():
    said = problems("language: en\ntimezone: UTC\nlanguage: zh\n")
    assert said == ["team.yaml:3: language: “language” is given twice, at lines 1 and 3; keep one of them"]


def test_every_duplicate_is_reported_on_its_own_line():
    said = problems("language: en\nlanguage: zh\nslack:\n  command: /a\n  command: /b\n")
    assert [line.split(":")[1] for line in said] == ["2", "5"]


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_an_empty_file_is_refused(text):
    assert problems(text) == ["team.yaml: (top level): the file is empty; `onevoice init` writes a starter one"]


def test_a_list_instead_of_a_mapping_is_refused():
    assert "expected a mapping" in problems("- alice\n- bob\n")[0]


def test_a_typo_in_people_comes_before_its_knock_on_errors():
    text = (
        "team:\n"
        "  roles:\n"
        "    legal: {backup: zoe}\n"  # line 3 refers to zoe …
        "  people:\n"
        "    zoe: {nmae: Zoe, roles: [legal]}\n"  # … whose definition (line 5) is the cause
        "playbooks:\n"
        "  outage:\n"
        "    approvers: {sev1: [lawyer]}\n"
    )
    said = problems(text)
    assert said[0].startswith("team.yaml:5: team.people.zoe")  # the definition first, though it is lower in the file
    assert any("unknown role 'lawyer'" in line for line in said[1:])


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("team:\n  people:\n    bob:\n     name: Bob\n    roles: [legal]\n   timezone: UTC\n", 6, "indentation does not line up"),
        ("language: en\n\ttimezone: UTC\n", 2, "tab character; indent with spaces only"),
        ("language:\ten\n", 1, "tab character; indent with spaces only"),  # a tab after the colon: libyaml would accept it
        ("language: en\t# ours\n", 1, "tab character; indent with spaces only"),
        ("team: [1, 2\n", 2, "list in [ ] is not closed"),
        ("slack: {command: /crisis\n", 2, "mapping opened with a brace is not closed"),
        ('timezone: "Asia/Shanghai\n', 2, "quote is opened but never closed"),
        ("language: en: zh\n", 1, "where none can be"),
    ],
)
def test_yaml_mistakes_are_told_in_plain_words_with_line_and_column(text, line, words):
    said = problems(text)
    assert len(said) == 1 and said[0].startswith(f"team.yaml:{line}:") and words in said[0], said
    assert "(column " in said[0]
    assert "expected <block end>" not in said[0] and "could not find" not in said[0]  # no parser jargon


def test_syntax_errors_can_be_told_in_chinese():
    from handlers.text.i18n import _, speaking

    with pytest.raises(ConfigError) as caught:
        parse_config("language: en\n\ttimezone: UTC\n", "team.yaml")
    with speaking("zh"):
        said = caught.value.problems[0].said(_)
    assert said.startswith("team.yaml:2:") and "制表符" in said and "第 1 列" in said


def test_the_starter_config_still_loads():
    assert parse_config(STARTER.read_text(encoding="utf-8"), str(STARTER)).team.people


def _warnings(text: str, around: Surroundings) -> list[str]:
    config = parse_config(text, "team.yaml")
    return [str(w) for w in gaps(config, text, "team.yaml", around)]


STARTER_TEXT = STARTER.read_text(encoding="utf-8")


def test_warnings_name_the_missing_pieces_with_their_lines():
    said = _warnings(STARTER_TEXT, Surroundings(frozenset({"slack"}), public_url=None, signals=True))
    page = next(line for line in said if "website" in line)
    assert "ONEVOICE_PUBLIC_URL" in page and page.startswith("team.yaml:") and page.split(":")[1].isdigit()
    assert any("“announcements” is on telegram/console, not connected here" in line for line in said)
    assert not any("newsroom" in line for line in said)  # Slack is connected
    assert any("triage_room" in line for line in said)


def test_no_warnings_when_every_piece_is_there():
    text = STARTER_TEXT + "triage_room: {slack: C0TRIAGE, telegram: -100, console: triage}\n"
    assert _warnings(text, Surroundings(frozenset({"slack", "telegram"}), "https://status.example", signals=True)) == []


def test_a_manual_target_is_never_warned_about():
    assert not any("weibo" in line for line in _warnings(STARTER_TEXT, Surroundings(frozenset())))


def test_absurd_nesting_is_refused_in_words():
    assert problems("a: " + "[" * 2_000 + "\n") == ["team.yaml: (top level): nested too deeply to be a config file"]


@pytest.mark.parametrize(
    ("text", "chinese"),
    [
        ("langauge: zh\n", "未知的键（请检查拼写）"),
        ("language: fr\n", "应为 'en' or 'zh' 之一"),
        ("team:\n  people:\n    bob: {name: Bob, timezone: 5}\n", "应为文本"),
    ],
)
def test_the_checks_pydantic_makes_are_told_in_chinese_too(text, chinese):
    from handlers.text.i18n import _, speaking

    with pytest.raises(ConfigError) as caught:
        parse_config(text, "team.yaml")
    with speaking("zh"):
        said = [problem.said(_) for problem in caught.value.problems]
    assert any(chinese in line for line in said), said
    assert str(caught.value.problems[0]).startswith("team.yaml:")  # and English where no language is chosen
