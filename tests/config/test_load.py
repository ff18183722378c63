"""Config: shipped defaults, durations, and errors named with their line."""

import subprocess
import sys
from datetime import timedelta

import pytest
from pydantic import SecretStr

from config.durations import format_duration, parse_duration
from config.load import ConfigError, load_config, parse_config
from config.settings import Settings

PLAYBOOKS = {"product-quality", "sensitive-topic", "emergency", "attack", "outage"}


@pytest.mark.parametrize(("text", "seconds"), [("45s", 45), ("30m", 1800), ("2h", 7200), ("3d", 259200), ("1w", 604800), (" 10M ", 600)])
def test_durations_accept_units(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "10", "m", "1.5h", "-3m", "3 parsecs", "2h30m"])
def test_bad_durations_are_refused(text):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_durations_write_back_in_their_unit():
    assert [format_duration(parse_duration(t)) for t in ("45s", "90m", "2h", "3d")] == ["45s", "90m", "2h", "3d"]


def test_shipped_playbooks_are_complete():
    config = load_config(None)
    assert set(config.playbooks) == PLAYBOOKS
    for key, playbook in config.playbooks.items():
        assert 8 <= len(playbook.checklist) <= 15, key
        assert set(playbook.templates) == {"holding", "apology", "update", "clarification"}, key
        for template in playbook.templates.values():
            assert template.en.format(title="T", date="D", next_update="N") and template.zh.format(title="T", date="D", next_update="N")
        dues = [item.due for item in playbook.checklist]
        assert dues == sorted(dues), f"{key}: checklist due offsets go backwards"


def test_severity_table_matches_the_product_contract():
    config = load_config(None)
    table = {sev: (t.first_statement, t.update_every, t.approval_nudge, t.review_within) for sev, t in config.severities.items()}
    h, m, d = timedelta(hours=1), timedelta(minutes=1), timedelta(days=1)
    assert table == {
        "sev1": (60 * m, 30 * m, 10 * m, 3 * d),
        "sev2": (2 * h, 60 * m, 20 * m, 5 * d),
        "sev3": (4 * h, 4 * h, 1 * h, 10 * d),
        "sev4": (24 * h, 24 * h, 4 * h, None),
    }


def test_overrides_merge_over_defaults():
    config = parse_config(
        """
language: zh
severities:
  sev1: {first_statement: 45m}
playbooks:
  outage: {severity: sev3}
team:
  roles:
    legal: {backup: zoe}
  people:
    zoe: {name: Zoe, roles: [legal], slack: U0ZOE, telegram: 7}
"""
    )
    assert config.language == "zh"
    assert config.severities["sev1"].first_statement == timedelta(minutes=45)
    assert config.severities["sev1"].update_every == timedelta(minutes=30)  # the rest kept
    assert config.playbooks["outage"].severity == "sev3" and config.playbooks["outage"].checklist
    assert config.team.roles["legal"].title.en == "Legal counsel" and config.team.roles["legal"].backup == "zoe"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("language: fr\n", 1, "expected 'en' or 'zh'"),
        ("team:\n  people:\n    bob:\n      name: Bob\n      roles: [lawyer]\n", 5, "unknown role 'lawyer'"),
        ("severities:\n  sev1:\n    first_statement: soon\n", 3, "duration"),
        ("severities:\n  sev2: {update_every: 30}\n", 2, "bare number"),
        ("team:\n  people:\n    bob: {nmae: Bob}\n", 3, "unknown key"),
        ("broadcast:\n  - {name: weibo, limit: -5}\n", 2, "greater than 0"),
        ("playbooks:\n  outage:\n    checklist:\n      - {title: {en: a, zh: b}, owner: janitor, due: 5m}\n", 4, "unknown role 'janitor'"),
        ("team: [1, 2\n", 2, "not valid YAML"),
    ],
)
def test_errors_name_their_line_and_what_was_expected(text, line, words):
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "team.yaml")
    reported = [str(problem) for problem in caught.value.problems]
    assert any(words in text and text.startswith(f"team.yaml:{line}:") for text in reported), reported


def test_secrets_come_from_the_environment_and_never_print(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    monkeypatch.setenv("ONEVOICE_DATABASE_URL", "sqlite:///x.db")
    settings = Settings()
    assert isinstance(settings.slack_bot_token, SecretStr)
    assert settings.slack_bot_token.get_secret_value() == "xoxb-very-secret"
    assert "very-secret" not in repr(settings) and "very-secret" not in str(settings.model_dump())
    assert settings.database_url == "sqlite:///x.db"


def _onevoice(*args, cwd):
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_init_writes_a_config_that_check_config_accepts(tmp_path):
    assert _onevoice("init", cwd=tmp_path).returncode == 0
    assert (tmp_path / "onevoice.yaml").exists()
    assert _onevoice("init", cwd=tmp_path).returncode == 1  # never overwrites silently
    checked = _onevoice("check-config", "onevoice.yaml", cwd=tmp_path)
    assert checked.returncode == 0 and "OK" in checked.stdout


def test_check_config_reports_each_error_with_its_line(tmp_path):
    (tmp_path / "bad.yaml").write_text("language: fr\nteam:\n  people:\n    bob: {name: Bob, roles: [lawyer]}\n")
    checked = _onevoice("check-config", "bad.yaml", cwd=tmp_path)
    assert checked.returncode == 1
    assert "bad.yaml:1: language" in checked.stderr and "bad.yaml:4:" in checked.stderr
