"""The statement vetter (PRODUCT.md §4, "Vet"): each finding names the rule and quotes the words that caused it."""

import inspect

import pytest

import handlers.line.facts
import handlers.line.vetting
from config.load import ConfigError, parse_config
from handlers.line.vetting import Finding, render_findings, vet
from tests.templates import copy_of_starter

CONFIG = copy_of_starter()
RULES = list(CONFIG.vet.values())
# Endings that satisfy empathy and next update and state no fact, so that a case shows only what it is about.
EN_TAIL = " We are sorry for the worry this has caused. More information is on our official website."
ZH_TAIL = "对此给大家带来的担忧，我们深表歉意，详情请见官方网站。"


def case(name: str, text: str, expected: list[tuple[str, ...]], approved: str | None = None, **limits: int):
    """A vetting case: the text, the approved line, the targets' limits and the exact findings."""
    return pytest.param(text, approved, limits or None, expected, id=name)


def found(text: str, approved: str | None = None, limits: dict[str, int] | None = None) -> list[tuple[str, ...]]:
    """The findings as (rule, quote) or, where there is a detail, (rule, quote, detail)."""
    return [(f.rule, f.quote, f.detail) if f.detail else (f.rule, f.quote) for f in vet(text, RULES, approved, limits)]


ENGLISH = [
    case(
        "clean holding statement",
        "We are aware of the reports and we understand the concern they have caused. Our next update will be on our official website.",
        [],
    ),
    case("speculation", "The fire was probably caused by a faulty charger." + EN_TAIL, [("speculation", "probably")]),
    case(
        "several speculations, in text order",
        "We believe the batteries may have been stored badly, and it seems the fault is likely limited." + EN_TAIL,
        [("speculation", "We believe"), ("speculation", "may have been"), ("speculation", "it seems"), ("speculation", "likely")],
    ),
    case(
        "a repeated phrase is one finding, quoted as first written",
        "Probably a software fault. PROBABLY not the hardware." + EN_TAIL,
        [("speculation", "Probably")],
    ),
    case("whole words only: a brand containing a phrase", "Maybelline products are not affected." + EN_TAIL, []),
    case(
        "no comment",
        "The retailer declined to comment, and we have no comment on the rumours." + EN_TAIL,
        [("no_comment", "declined to comment"), ("no_comment", "no comment")],
    ),
    case(
        "cannot comment, with a curly apostrophe",
        "We can’t comment while the investigation continues." + EN_TAIL,
        [("no_comment", "can’t comment")],
    ),
    case(
        "blame on customers and the supplier",
        "This was user error, not our fault; the supplier is responsible." + EN_TAIL,
        [("blame", "user error"), ("blame", "not our fault"), ("blame", "supplier is responsible")],
    ),
    case(
        "blame on a third party and on fate",
        "The delay was caused by a third party and is beyond our control." + EN_TAIL,
        [("blame", "caused by a third party"), ("blame", "beyond our control")],
    ),
    case("taking responsibility is not blame", "We take full responsibility for putting this right." + EN_TAIL, []),
    case("missing empathy", "Service has been restored. Our next update will be on our status page.", [("empathy", "")]),
    case("missing next update", "We are sorry for the disruption this has caused.", [("next_update", "")]),
    case("a link tells where to learn more", "We apologise for the disruption. Details: https://status.example.com/incident", []),
    case(
        "every kind of phrase at once, in text order, the missing ones last",
        "Possibly a user error; no comment.",
        [("speculation", "Possibly"), ("blame", "user error"), ("no_comment", "no comment"), ("empathy", ""), ("next_update", "")],
    ),
    case(
        "an English text quoting a Chinese refusal",
        "Asked about the recall, a spokesperson said “无可奉告”." + EN_TAIL,
        [("no_comment", "无可奉告")],
    ),
    case(
        "too long for one target, quoting the words beyond its limit",
        "We are sorry. Our next update will be on our official website at the usual time.",
        [("length", "official website at the usual", "sms")],
        sms=45,
        weibo=2000,
    ),
    case(
        "too long for two targets, each named",
        "We are sorry. Our next update will be on our official website.",
        [("length", "Our next update will be on our", "x"), ("length", "website.", "sms")],
        sms=54,
        x=14,
    ),
    case("3 is not in 30", "3 stores are closed." + EN_TAIL, [("consistency", "3", "number")], "30 stores are closed." + EN_TAIL),
    case(
        "3 is not in v3 or in 3.5",
        "3 stores are closed." + EN_TAIL,
        [("consistency", "3", "number")],
        "The v3 app lists 3.5 stores." + EN_TAIL,
    ),
    case("1,200 is 1200", "We recalled 1,200 units." + EN_TAIL, [], "We recalled 1200 units." + EN_TAIL),
    case(
        "a fact is flagged once however often it is repeated",
        "3 stores and 3 depots are closed for 3 days." + EN_TAIL,
        [("consistency", "3", "number")],
        "Some stores are closed." + EN_TAIL,
    ),
    case(
        "amount, percent, date and time, never also as bare numbers",
        "Refunds of $5,000 cover 12% of orders placed on March 3 before 18:00." + EN_TAIL,
        [
            ("consistency", "$5,000", "amount"),
            ("consistency", "12%", "percent"),
            ("consistency", "March 3", "date"),
            ("consistency", "18:00", "time"),
        ],
        "Refunds of 5,000 cover 12 orders placed in March before 18." + EN_TAIL,
    ),
    case(
        "the same facts in another order in the approved line",
        "Refunds of $5,000 cover 12% of orders placed on March 3 before 18:00." + EN_TAIL,
        [],
        "Orders placed before 18:00 on March 3: 12% of them, refunds of $5,000." + EN_TAIL,
    ),
    case(
        "names, acronyms and model codes",
        "Acme Power and the FDA confirmed that the PB-20 and X200 are affected." + EN_TAIL,
        [("consistency", "FDA", "entity"), ("consistency", "X200", "entity")],
        "Acme Power confirmed that the PB-20 is affected." + EN_TAIL,
    ),
    case(
        "a capitalised word that starts a sentence names nothing",
        "Customers who bought the PB-20 can get a refund." + EN_TAIL,
        [],
        "Anyone who bought the PB-20 can get a refund." + EN_TAIL,
    ),
    case(
        "words that name nothing are trimmed from a name",
        "The Ministry of Health is leading the response." + EN_TAIL,
        [],
        "Ministry of Health officials are leading the response." + EN_TAIL,
    ),
    case(
        "a weekday before a name is a date, not part of the name",
        "On Monday Acme Power recalled the PB-20." + EN_TAIL,
        [("consistency", "Monday", "date")],
        "Acme Power recalled the PB-20." + EN_TAIL,
    ),
]

CHINESE = [
    case("clean holding statement", "我们已关注到有关反馈，理解大家的关切。我们将于今晚在官方网站发布最新进展。", []),
    case("speculation", "起火原因可能是充电器故障。" + ZH_TAIL, [("speculation", "可能")]),
    case(
        "several speculations, in text order",
        "估计是电池问题，也许与储存有关，据说已有人受伤。" + ZH_TAIL,
        [("speculation", "估计"), ("speculation", "也许"), ("speculation", "据说")],
    ),
    case("no comment", "对于网传消息，我们无可奉告，也不予置评。" + ZH_TAIL, [("no_comment", "无可奉告"), ("no_comment", "不予置评")]),
    case("not responding for now", "目前暂不回应，不便透露更多。" + ZH_TAIL, [("no_comment", "暂不回应"), ("no_comment", "不便透露")]),
    case(
        "blame on the user",
        "此事与本公司无关，系用户使用不当所致。" + ZH_TAIL,
        [("blame", "与本公司无关"), ("blame", "系用户使用不当所致")],
    ),
    case("blame on a temporary worker", "涉事员工为临时工，属于个人行为。" + ZH_TAIL, [("blame", "临时工"), ("blame", "个人行为")]),
    case("our own responsibility is not blame", "我们的责任在于保障每一位用户的安全。" + ZH_TAIL, []),
    case("missing empathy", "服务已恢复，详情请见官网。", [("empathy", "")]),
    case("missing next update", "对此我们深表歉意。", [("next_update", "")]),
    case("an English phrase inside Chinese text", "原因probably是电池过热。" + ZH_TAIL, [("speculation", "probably")]),
    case(
        "mixed languages, in text order, the missing ones last",
        "可能是user error，无可奉告。",
        [("speculation", "可能"), ("blame", "user error"), ("no_comment", "无可奉告"), ("empathy", ""), ("next_update", "")],
    ),
    case(
        "too long, counting characters",
        "对此我们深表歉意，详情请见官方网站，我们会持续更新。",
        [("length", "，我们会持续更新。", "weibo")],
        weibo=17,
    ),
    case(
        "numbers with measure words",
        "共召回三批产品，五名员工受伤。" + ZH_TAIL,
        [("consistency", "三批", "number"), ("consistency", "五名", "number")],
        "共召回两批产品，无人受伤。" + ZH_TAIL,
    ),
    case(
        "set phrases with numerals are not numbers",
        "我们第一时间成立了一个专项小组，进一步统一处理，一起面对。" + ZH_TAIL,
        [],
        "我们成立了专项小组。" + ZH_TAIL,
    ),
    case(
        "full-width digits are the same digits",
        "共召回３０台，占１２％，１８：００前发货。" + ZH_TAIL,
        [],
        "共召回30台，占12%，18:00前发货。" + ZH_TAIL,
    ),
    case(
        "a date and a time, not also numbers",
        "2026年3月2日下午3点，我们发布了召回公告。" + ZH_TAIL,
        [("consistency", "2026年3月2日", "date")],
        "2026年3月3日下午3点，我们发布了召回公告。" + ZH_TAIL,
    ),
    case("an amount with a thousands separator", "每位用户赔偿5,000元。" + ZH_TAIL, [], "每位用户赔偿5000元。" + ZH_TAIL),
    case("a different amount", "每位用户赔偿6000元。" + ZH_TAIL, [("consistency", "6000元", "amount")], "每位用户赔偿5000元。" + ZH_TAIL),
    case(
        "a percentage in words",
        "不合格率为百分之十二。" + ZH_TAIL,
        [("consistency", "百分之十二", "percent")],
        "不合格率正在核实。" + ZH_TAIL,
    ),
    case(
        "an organisation and a title",
        "据深圳市人民医院通报，详见《产品召回公告》。" + ZH_TAIL,
        [("consistency", "深圳市人民医院", "entity"), ("consistency", "《产品召回公告》", "entity")],
        "据医院通报，详见公告。" + ZH_TAIL,
    ),
    case("the company concerned names no one", "涉事公司已暂停销售。" + ZH_TAIL, [], "已暂停销售。" + ZH_TAIL),
    case(
        "a Latin brand and model inside Chinese text",
        "我们对Anker PB-20移动电源发热问题深表歉意，详情请见官网。",
        [("consistency", "Anker PB-20", "entity")],
        "我们对移动电源发热问题深表歉意，详情请见官网。",
    ),
    case(
        "a Latin brand in the approved line is not flagged",
        "我们对Anker PB-20移动电源发热问题深表歉意，详情请见官网。",
        [],
        "关于Anker PB-20移动电源，详情请见官网。",
    ),
]


@pytest.mark.parametrize(("text", "approved", "limits", "expected"), ENGLISH)
def test_english(text, approved, limits, expected):
    assert found(text, approved, limits) == expected


@pytest.mark.parametrize(("text", "approved", "limits", "expected"), CHINESE)
def test_chinese(text, approved, limits, expected):
    assert found(text, approved, limits) == expected


TEMPLATE_VALUES = {
    "en": {"title": "Power banks overheating while charging", "date": "2 March 2026", "next_update": "11:30"},
    "zh": {"title": "移动电源充电发热", "date": "2026年3月2日", "next_update": "11:30"},
}
TEMPLATES = [
    pytest.param(template.get(language).format(**TEMPLATE_VALUES[language]), kind, id=f"{key}-{kind}-{language}")
    for key, playbook in CONFIG.playbooks.items()
    for kind, template in playbook.templates.items()
    for language in ("en", "zh")
]


def test_every_playbook_has_its_templates_in_both_languages():
    assert len(TEMPLATES) == 2 * 4 * len(CONFIG.playbooks) >= 2 * 4 * 5


@pytest.mark.parametrize(("text", "kind"), TEMPLATES)
def test_a_shipped_template_filled_in_passes_the_vetter_as_its_kind(text, kind):
    assert "{" not in text
    assert vet(text, RULES, kind=kind) == []


def test_the_rules_of_every_language_apply_to_every_text():
    english, chinese = CONFIG.vet["en"], CONFIG.vet["zh"]
    text = "原因probably是电池，无可奉告。"
    assert [f.quote for f in vet(text, [chinese])] == ["无可奉告", "", ""]
    assert [f.quote for f in vet(text, [english])] == ["probably", "", ""]
    assert [f.quote for f in vet(text, [english, chinese])] == ["probably", "无可奉告", "", ""]
    assert vet("We are sorry. 详情请见官网。", [chinese]) == [Finding("empathy", "")]
    assert vet("We are sorry. 详情请见官网。", [english, chinese]) == []


def test_the_engine_has_no_branch_per_language():
    for module in (handlers.line.vetting, handlers.line.facts):
        source = inspect.getsource(module)
        assert '"zh"' not in source and '"en"' not in source and "'zh'" not in source, module.__name__


def test_the_findings_message_names_each_finding_and_quotes_its_words():
    findings = [
        Finding("speculation", "probably"),
        Finding("no_comment", "无可奉告"),
        Finding("blame", "user **error**"),
        Finding("length", "beyond the limit", "weibo", 2143),
        Finding("consistency", "45", "number"),
        Finding("consistency", "Acme Power", "entity"),
        Finding("empathy", ""),
        Finding("next_update", ""),
    ]
    message = render_findings(findings, {"weibo": 2000})
    assert message.plain().splitlines() == [
        "🔎 Wording check: 8 things to look at",
        "• Speculation: “probably”",
        "• “No comment”: “无可奉告”",
        "• Blame-shifting: “user **error**”",
        "• Too long for weibo: 2,143 characters, the limit is 2,000 (beyond it: “beyond the limit”)",
        "• Not in the approved line (number): “45”",
        "• Not in the approved line (name): “Acme Power”",
        "• Missing empathy: no words such as “sorry” or “we understand”",
        "• No next update or where to learn more",
    ]
    assert [span.text for span in message.spans if span.style == "b"] == ["Wording check: 8 things to look at"]


def test_one_finding_is_counted_in_the_singular_and_none_says_so():
    assert render_findings([Finding("speculation", "likely")]).plain() == "🔎 Wording check: 1 thing to look at\n• Speculation: “likely”"
    assert render_findings([]).plain() == "✅ Wording check: nothing to flag."


def test_a_length_finding_renders_without_the_limit_when_it_is_not_given():
    line = render_findings([Finding("length", "the rest", "sms", 200)]).plain().splitlines()[1]
    assert line == "• Too long for sms (beyond it: “the rest”)"


def test_a_findings_message_from_a_real_draft():
    text = "The fire was probably caused by user error. We recalled 45 units."
    findings = vet(text, RULES, approved="We recalled 40 units.", limits={"sms": 44})
    lines = render_findings(findings, {"sms": 44}).plain().splitlines()
    assert lines == [
        "🔎 Wording check: 6 things to look at",
        "• Speculation: “probably”",
        "• Blame-shifting: “user error”",
        "• Too long for sms: 65 characters, the limit is 44 (beyond it: “We recalled 45 units.”)",
        "• Not in the approved line (number): “45”",
        "• Missing empathy: no words such as “sorry” or “we understand”",
        "• No next update or where to learn more",
    ]


@pytest.mark.parametrize(
    ("yaml_text", "path"),
    [
        ("vet:\n  en:\n    speculation: ['(unclosed']\n", "vet.en.speculation.0"),
        ("vet:\n  en:\n    blame: ['not our fault', 'caused by [']\n", "vet.en.blame.1"),
        ("vet:\n  zh:\n    facts:\n      date: ['(?i)星期']\n", "vet.zh.facts.date.0"),
    ],
)
def test_a_bad_pattern_in_the_config_is_named_by_its_place(yaml_text, path):
    with pytest.raises(ConfigError) as caught:
        parse_config(yaml_text)
    assert [(problem.path, problem.line) for problem in caught.value.problems] == [(path, yaml_text.count("\n"))]
    assert "not a valid regular expression" in caught.value.problems[0].message
