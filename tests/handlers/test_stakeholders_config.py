"""The `stakeholders:` config (PRODUCT.md §10): strict, with every mistake named at its line, in English and Chinese."""

from datetime import timedelta

import pytest

from config.errors import ConfigError
from config.load import parse_config
from handlers.text.i18n import _, speaking
from tests.templates import copy_of_starter

LISTS = """
stakeholders:
  regulators:
    title: {en: Regulators, zh: 监管部门}
    playbooks: [product-quality]
    deadline: {sev1: 1h, sev2: 4h}
    contacts:
      - {name: Duty desk, email: duty@regulator.example}
      - {name: Provincial office, phone: "+86 10 5555 0100"}
"""


def problems(text: str, language: str = "en") -> list[str]:
    with pytest.raises(ConfigError) as caught, speaking(language):
        parse_config(text)
    with speaking(language):
        return [problem.said(_) for problem in caught.value.problems]


def test_a_list_reads_with_its_contacts_playbooks_and_deadlines():
    config = parse_config(LISTS)
    regulators = config.stakeholders["regulators"]
    assert regulators.key == "regulators" and regulators.title.get("zh") == "监管部门"
    assert regulators.playbooks == ["product-quality"]
    assert regulators.deadline == {"sev1": timedelta(hours=1), "sev2": timedelta(hours=4)}
    assert [(c.name, c.email, c.phone) for c in regulators.contacts] == [
        ("Duty desk", "duty@regulator.example", None),
        ("Provincial office", None, "+86 10 5555 0100"),
    ]


def test_the_starter_config_ships_regulators_required_for_product_quality():
    shipped = copy_of_starter().stakeholders
    assert shipped["regulators"].playbooks == ["product-quality"] and "sev1" in shipped["regulators"].deadline
    assert not shipped["press"].playbooks


def test_a_bad_address_a_contact_with_neither_and_a_bad_phone_are_each_named_at_their_line():
    text = LISTS.replace("duty@regulator.example", "duty.regulator.example").replace('phone: "+86 10 5555 0100"', 'phone: "call me"')
    text += "      - {name: Nobody}\n"
    assert problems(text) == [
        "onevoice.yaml:8: stakeholders.regulators.contacts.0.email: “duty.regulator.example” is not an e-mail address",
        "onevoice.yaml:9: stakeholders.regulators.contacts.1.phone: “call me” is not a phone number (digits, spaces and + ( ) - only)",
        "onevoice.yaml:10: stakeholders.regulators.contacts.2: contact “Nobody” has neither an email nor a phone: give one of them",
    ]


def test_the_same_mistakes_are_told_in_chinese():
    text = LISTS.replace("duty@regulator.example", "duty.regulator.example") + "      - {name: Nobody}\n"
    assert problems(text, "zh") == [
        "onevoice.yaml:8: stakeholders.regulators.contacts.0.email: “duty.regulator.example”不是电子邮件地址",
        "onevoice.yaml:10: stakeholders.regulators.contacts.2: 联系人“Nobody”既没有电子邮件也没有电话：请至少填写一项",
    ]


def test_an_unknown_playbook_an_unknown_key_a_bad_severity_and_no_contacts_are_refused():
    assert "unknown playbook “recall”" in problems(LISTS.replace("[product-quality]", "[recall]"))[0]
    typo = problems(LISTS.replace("playbooks:", "playbook:"))[0]
    assert typo.endswith("stakeholders.regulators.playbook: unknown key (check its spelling)")
    assert "stakeholders.regulators.deadline.sev9" in problems(LISTS.replace("sev2: 4h", "sev9: 4h"))[0]
    empty = "stakeholders:\n  press:\n    title: {en: Press, zh: 媒体}\n    contacts: []\n"
    assert "stakeholders.press.contacts" in problems(empty)[0]
