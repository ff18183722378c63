"""Drill scenarios as YAML: validated, errors named with their file and line, teams' own beside the shipped ones."""

from datetime import timedelta

import pytest

from config.load import STARTER, ConfigError, parse_config
from config.scenarios import for_playbook, load_scenarios, parse_scenario
from handlers.core.ports import FakeClock
from storage.db import make_engine, upgrade
from tests.conftest import Chat

GOOD = """\
playbook: outage
title: {en: Payments API down, zh: 支付接口中断}
description: {en: "Card payments fail for everyone.", zh: "所有用户银行卡支付失败。"}
severity: sev1
injects:
  - at: 20m
    kind: journalist_call
    source: {en: "36Kr (reporter Lin)", zh: "36氪（林记者）"}
    deadline: 30m
    text: {en: "Are card payments down for all your users, and since when?", zh: "你们所有用户的银行卡支付都无法使用吗？从什么时候开始的？"}
  - at: 5m
    kind: social_post
    source: "@angry_shopper"
    reach: 1200
    text: {en: "Checkout fails three times in a row, anyone else?", zh: "连续三次结账失败，还有别人遇到吗？"}
"""


def test_a_scenario_file_loads_with_its_injects_in_time_order_and_their_answer_targets():
    scenario = parse_scenario(GOOD, "teams/payments-down.yaml")
    assert (scenario.key, scenario.playbook, scenario.severity) == ("payments-down", "outage", "sev1")
    assert [(i.kind, i.at, i.answer_span()) for i in scenario.injects] == [
        ("social_post", timedelta(minutes=5), timedelta(minutes=15)),  # the kind's default
        ("journalist_call", timedelta(minutes=20), timedelta(minutes=30)),  # the caller's deadline
    ]
    assert scenario.injects[1].source_in("zh") == "36氪（林记者）" and scenario.injects[0].source_in("zh") == "@angry_shopper"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("  - at: 5m\n", "  - at: 5 minutes\n"), "teams/broken.yaml:11: injects.1.at: expected a duration such as 45s, 30m, 2h or 3d"),
        (("    kind: social_post\n", "    kind: tweet\n"), "teams/broken.yaml:12: injects.1.kind: expected 'social_post'"),
        (('zh: "连续三次结账失败，还有别人遇到吗？"}', "}"), "teams/broken.yaml:15: injects.1.text.zh: required key is missing"),
        (("    reach: 1200\n", "    reach: 1200\n    colour: red\n"), "teams/broken.yaml:15: injects.1.colour: unknown key"),
        (("  - at: 20m\n", "  - at: 30d\n"), "teams/broken.yaml:6: injects.0.at: an inject at most 1d after the start"),
        (("severity: sev1\n", "severity: sev5\n"), "teams/broken.yaml:4: severity: expected 'sev1', 'sev2', 'sev3' or 'sev4'"),
        (("title:", "titel:"), "teams/broken.yaml:2: titel: unknown key"),
        (("injects:\n", "injects: [\n"), "teams/broken.yaml:6: (top level): not valid YAML: expected the node content, but found '-'"),
    ],
)
def test_a_broken_scenario_file_names_the_file_line_and_key(change, problem):
    old, new = change
    assert old in GOOD
    with pytest.raises(ConfigError) as error:
        parse_scenario(GOOD.replace(old, new), "teams/broken.yaml")
    assert problem in str(error.value), str(error.value)


def test_a_team_folder_adds_scenarios_and_may_name_a_playbooks_default(tmp_path):
    folder = tmp_path / "drills"
    folder.mkdir()
    (folder / "payments-down.yaml").write_text(GOOD, encoding="utf-8")
    (folder / "recall-rehearsal.yaml").write_text(GOOD.replace("playbook: outage", "playbook: product-quality\ndefault: true"), "utf-8")
    config = parse_config(STARTER.read_text(encoding="utf-8") + "scenarios_dir: drills\n", str(tmp_path / "onevoice.yaml"))
    assert config.scenarios_dir == str(tmp_path / "drills")  # relative to the config file
    scenarios = load_scenarios(config.scenarios_dir)
    assert [s.key for s in for_playbook(scenarios, "outage")] == ["payments-down"]
    assert [s.key for s in for_playbook(scenarios, "product-quality")] == ["recall-rehearsal", "power-bank-overheating"]

    clock = FakeClock()
    engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    upgrade(engine)
    reply = Chat(engine, config, clock).say("erin", "drill outage")
    assert reply.ok and "🧪 Drill #1 “Payments API down” started (outage, sev1, scenario payments-down)" in reply.message.plain()


def test_the_config_refuses_to_load_over_a_broken_team_scenario(tmp_path):
    folder = tmp_path / "drills"
    folder.mkdir()
    (folder / "payments-down.yaml").write_text(GOOD.replace("kind: social_post", "kind: tweet"), encoding="utf-8")
    (folder / "stray.yaml").write_text(GOOD.replace("playbook: outage", "playbook: outtage"), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        parse_config("scenarios_dir: drills\n", str(tmp_path / "onevoice.yaml"))
    assert f"{folder / 'payments-down.yaml'}:12: injects.1.kind: expected 'social_post'" in str(error.value)
    with pytest.raises(ConfigError) as error:
        parse_config("scenarios_dir: elsewhere\n", str(tmp_path / "onevoice.yaml"))
    assert "scenarios_dir: no such folder" in str(error.value)
    (folder / "payments-down.yaml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        parse_config("scenarios_dir: drills\n", str(tmp_path / "onevoice.yaml"))
    assert f"{folder / 'stray.yaml'}:1: playbook: unknown playbook 'outtage'; expected one of" in str(error.value)
