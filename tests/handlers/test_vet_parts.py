"""The six parts of a holding statement (PRODUCT.md §4), and the rule classes found on the third held-out set, with texts
in neither the rule files nor the bench corpus, in English, Simplified and Traditional Chinese.
"""

import pytest

from handlers.line.vetting import render_findings, vet
from tests.templates import copy_of_starter

RULES = list(copy_of_starter().vet.values())
SIX = ["empathy", "confirmed_facts", "unknowns", "next_update", "commitment", "learn_more"]


def missing(text: str, kind: str = "holding") -> list[str]:
    return [f.rule for f in vet(text, RULES, kind=kind) if not f.quote and f.rule in SIX]


@pytest.mark.parametrize(
    "text",
    [
        "At 9:15 a gas main ruptured under Dock Street and 40 homes were evacuated. We are so sorry for the upheaval. "
        "We cannot yet say when people can go home. We will pay for every family's hotel until they can. "
        "Our next update is at 13:00 on gasco.example/dock, and residents can call 0800 300 4400.",
        "今天早上7点，我公司一列地铁在两站之间停车，约300名乘客步行疏散，我们深表歉意。停车原因尚在排查。"
        "我们将为受影响的乘客免费补办车票，下午3点前在官方微博发布最新情况，咨询请拨打热线。",
        "本店於週一晚間發生冷藏設備故障，約200份便當已全數銷毀，對受影響的顧客深感抱歉。故障原因仍在調查。"
        "我們承諾全額退款，並將於明天中午12點前在粉絲專頁說明最新進度，顧客亦可撥打客服專線。",
    ],
    ids=["en", "hans", "hant"],
)
def test_a_holding_statement_with_all_six_parts_has_no_missing_part(text):
    assert missing(text) == []


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("We have been made aware of an issue affecting some users and are looking into it.", SIX[:1] + SIX[1:2] + SIX[3:]),
        ("我们注意到有关反馈，高度重视。", SIX),
        ("本公司已注意到相關反映，高度重視。", SIX),
    ],
    ids=["en", "hans", "hant"],
)
def test_each_missing_part_of_a_holding_statement_is_named(text, parts):
    assert missing(text) == parts


def test_the_six_parts_are_asked_only_of_a_holding_statement():
    text = "We have been made aware of an issue and we are sorry. More at status.example.com."
    assert missing(text, "update") == []
    assert "confirmed_facts" in missing(text) and "commitment" in missing(text)


@pytest.mark.parametrize(
    "text",
    [
        "Some customers may be experiencing slow deliveries.",  # hedged
        "We will publish the figures at 17:00 today.",  # a promise, not a fact
        "For help, call 0800 100 2000.",  # a hotline, not a fact
        "部分用户可能无法登录。",
    ],
)
def test_a_hedge_a_promise_or_a_hotline_is_no_confirmed_fact(text):
    assert "confirmed_facts" in missing(text)


@pytest.mark.parametrize(
    "text",
    [
        "Two crew members were treated for smoke inhalation.",
        "Tests showed the water meets every standard.",
        "今日凌晨，一辆货车在高架桥上侧翻。",
        "經核實，共有三間門市受影響。",
    ],
)
def test_a_plain_fact_is_a_confirmed_fact(text):
    assert "confirmed_facts" not in missing(text)


@pytest.mark.parametrize(
    ("text", "committed"),
    [
        ("Getting everyone home safely is our top priority.", True),
        ("We will cover the cost of every repair.", True),
        ("We are co-operating fully with the inspectors.", True),
        ("We will keep you informed.", False),
        ("We take this very seriously.", False),
        ("我们会承担全部维修费用。", True),
        ("我們將全力協助受影響的住戶。", True),
        ("我们高度重视，将持续通报。", False),
    ],
)
def test_a_commitment_is_what_we_will_do_not_that_we_will_inform(text, committed):
    assert ("commitment" not in missing(text)) is committed


def test_the_missing_parts_are_named_in_both_languages():
    findings = vet("我们注意到有关反馈。", RULES, kind="holding")
    assert "No confirmed facts" in render_findings(findings).plain()
    assert "No commitment" in render_findings(findings).plain()


@pytest.mark.parametrize(
    "text",
    [
        "The lifts at the station, which are maintained by an outside contractor, failed twice this week.",
        "The leak came from a valve in equipment supplied by one of our vendors.",
        "Our cabin crew followed every safety procedure during the boarding delay.",
        "污染物来源为上游原料供应商。",
        "污染物來源為上游原料供應商。",
    ],
)
def test_blame_is_also_naming_who_runs_the_thing_that_failed_or_clearing_ourselves(text):
    assert "blame" in {f.rule for f in vet(text, RULES)}


def test_a_conditional_apology_sentence_is_no_empathy_even_with_a_kind_word_in_it():
    assert "empathy" in {f.rule for f in vet("若本次調整造成部分旅客不便，本公司深表遺憾，敬請見諒。", RULES)}
    assert "empathy" in {f.rule for f in vet("If any guests were upset, we regret it and apologise for any inconvenience.", RULES)}


def test_a_claim_reported_as_what_people_are_saying_counts_as_reporting_it():
    text = "Some accounts are saying that our bank is closing branches. Others are claiming the app will shut. Neither is true."
    assert {"fact_first", "claim_repeated"} <= {f.rule for f in vet(text, RULES, kind="rebuttal")}


def test_an_app_or_a_status_checker_is_a_place_to_learn_more():
    text = (
        "Our tram network stopped at 8:10. We're sorry. The cause is not yet known. We will do everything to restore it. "
        "Live status is in the CityTram app, next update at 10:00."
    )
    assert missing(text) == []


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("停运原因在于上游电网调度，超出了本公司的控制范围。", "blame"),
        ("停運原因在於上游電網調度，超出了本公司的控制範圍。", "blame"),
        ("校方对此深表遗憾。", "empathy"),  # regret about "this", said to no one: still no empathy
    ],
)
def test_beyond_our_control_in_chinese_and_regret_about_this_alone(text, rule):
    assert rule in {f.rule for f in vet(text, RULES)}


def test_a_report_promised_in_the_passive_is_a_next_update():
    assert "next_update" not in {f.rule for f in vet("We are sorry. The review's findings will be published in March.", RULES)}


def test_a_job_title_acronym_is_not_a_new_name():
    approved = "Our chief executive, Ana Ruiz, will visit the site."
    followup = "Our CEO, Ana Ruiz, will visit the site."
    assert [f.quote for f in vet(followup, RULES, approved) if f.rule == "consistency"] == []
