"""Each vet rule as a class (PRODUCT.md §4): texts written for this test, in neither the rule files nor the bench corpus.

English, Simplified and Traditional Chinese; look-alike letters and invisible characters do not hide a phrase; the
rules that apply depend on the kind; consistency compares facts, not words.
"""

import pytest

from handlers.line.vetting import render_findings, vet
from tests.templates import copy_of_starter

RULES = list(copy_of_starter().vet.values())


def rules(text: str, kind: str = "update", approved: str | None = None) -> set[str]:
    return {finding.rule for finding in vet(text, RULES, approved, kind=kind)}


def quotes(text: str, rule: str, kind: str = "update", approved: str | None = None) -> list[str]:
    return [finding.quote for finding in vet(text, RULES, approved, kind=kind) if finding.rule == rule]


@pytest.mark.parametrize(
    ("text", "quote"),
    [
        ("The leak started when a subcontractor's technicians left a valve open.", "subcontractor's technicians"),
        ("Several riders ignored the height limits posted at the gate.", "riders ignored"),
        ("The outage stemmed from a fault at our hosting provider.", "stemmed from a fault at our hosting provider"),
        ("停电系施工单位挖断电缆所致。", "系施工单位挖断电缆所致"),
        ("问题出在外包团队的代码上。", "问题出在外包"),
        ("問題出在外包廠商的伺服器。", "問題出在外包"),
        ("此次延誤係因乘客未按時登機所致。", "係因乘客未按時登機所致"),
    ],
    ids=["en-crew", "en-who-ignored", "en-provider", "hans-系所致", "hans-问题出在", "hant-問題出在", "hant-係因所致"],
)
def test_blame_is_pointing_at_someone_else_however_phrased(text, quote):
    assert quotes(text, "blame") == [quote]


@pytest.mark.parametrize(
    "text",
    [
        "We hired the contractor, and putting this right is our job.",
        "这次失误的责任在我们自己。",
        "本次事故的責任在於本公司。",
        "所有产品均经第三方检测合格。",
    ],
)
def test_owning_the_fault_or_naming_a_partner_is_not_blame(text):
    assert "blame" not in rules(text)


@pytest.mark.parametrize(
    ("text", "quote"),
    [
        ("We are not in a position to share the names of those involved.", "not in a position to share the names"),
        ("We won't be providing figures until the audit ends.", "won't be providing figures"),
        ("目前不方便透露涉事员工的信息。", "不方便透露"),
        ("本公司暫不回應相關細節。", "暫不回應"),
    ],
)
def test_polite_refusals_are_refusals(text, quote):
    assert quotes(text, "no_comment") == [quote]


def test_an_unknown_is_not_a_refusal():
    found = rules("We cannot yet say how many flights are affected; we will know by noon.", kind="holding")
    assert "no_comment" not in found and "unknowns" not in found


@pytest.mark.parametrize(
    ("text", "quote"),
    [
        ("We now strongly suspect a worn seal.", "We now strongly suspect"),
        ("The crash might have been triggered by a sensor.", "might have been triggered"),
        ("初步判断是线路老化。", "初步判断"),
        ("火災原因恐怕與電線老化有關。", "恐怕"),
        ("據說有員工受傷。", "據說"),
    ],
)
def test_hedges_with_adverbs_and_in_both_scripts_are_speculation(text, quote):
    assert quotes(text, "speculation") == [quote]


@pytest.mark.parametrize(
    "text",
    [
        "Guests whose cards may have been exposed will be contacted today.",
        "This may have inconvenienced some travellers.",
        "这种情况不可能再次发生。",
        "可能受影响的用户将收到短信。",
        "這種情況不可能再次發生。",
    ],
)
def test_negations_minimisers_and_scope_are_not_speculation(text):
    assert "speculation" not in rules(text)


@pytest.mark.parametrize(
    "text",
    [
        "We regret any disruption this may have caused to a few passengers.",
        "Sorry if anyone felt left out of the update.",
        "如造成不便，敬请谅解。",
        "若有造成困擾之處，敬請見諒。",
    ],
)
def test_hollow_apologies_are_found_and_are_not_empathy(text):
    found = rules(text)
    assert "hollow_apology" in found and "empathy" in found


@pytest.mark.parametrize(
    "text",
    [
        "Our hearts go out to the families of the crew.",
        "We know how stressful a cancelled holiday is.",
        "我们深知这次停水给居民带来的困扰。",
        "我們對傷者表示深切慰問。",
    ],
)
def test_empathy_phrasings_count(text):
    assert "empathy" not in rules(text)


@pytest.mark.parametrize("text", ["Thank you to everyone for your patience.", "感谢各界的关心与支持。", "請大家理解與配合。"])
def test_thanks_or_asking_for_understanding_is_not_empathy(text):
    assert "empathy" in rules(text)


@pytest.mark.parametrize(
    "text",
    ["Call 0800 246 8100 for help.", "Follow the live status page.", "请关注官方渠道。", "客服热线：95000。", "最新消息請留意本公司官網。"],
)
def test_a_hotline_a_page_or_official_channels_say_where_to_learn_more(text):
    assert "next_update" not in rules(text)


def test_vague_more_information_promises_nothing():
    assert "next_update" in rules("There will be more information about what happened.")


def test_a_holding_statement_needs_a_time_for_the_next_update_and_a_place():
    timed = "We will publish a further update by 6pm on Thursday."
    assert "next_update" not in rules(timed, "holding") and "learn_more" in rules(timed, "holding")
    untimed = vet("Updates will appear on our status page.", RULES, kind="holding")
    assert [(f.rule, f.detail) for f in untimed if f.rule in ("next_update", "learn_more")] == [("next_update", "when")]
    assert "No time for the next update" in render_findings(untimed).plain()
    assert "next_update" not in rules("我们将于明天上午9时在官网通报进展。", "holding")


def test_a_holding_statement_says_what_is_not_yet_known():
    assert "unknowns" in rules("The bridge is closed.", "holding")
    assert "unknowns" not in rules("It is not yet clear how the fire started.", "holding")
    assert "unknowns" not in rules("起火原因仍在调查。", "holding")
    assert "unknowns" not in rules("起火原因尚待釐清。", "holding")


def test_a_rebuttal_states_the_fact_first_repeats_the_claim_once_and_needs_no_empathy():
    text = "Posts claim our tap water is unsafe. It is safe. The posts also claim tests were skipped."
    assert [(f.rule, f.quote) for f in vet(text, RULES, kind="rebuttal") if f.rule in ("fact_first", "claim_repeated")] == [
        ("fact_first", "claim"),
        ("claim_repeated", "claim"),
    ]
    assert "empathy" not in rules(text, "rebuttal")
    assert rules("本行外币兑换业务一切正常。网传本行停止兑换外币，此说不实。详情请见官网。", "rebuttal") == set()
    assert "fact_first" in rules("網傳本行停止兌換外幣，此說不實。", "rebuttal")
    assert "fact_first" not in rules("Posts claim our tap water is unsafe. It is safe.", "update")  # only a rebuttal's shape


def test_a_closing_statement_needs_no_next_update():
    assert rules("The recall has ended. We are sorry for the trouble it caused.", "closing") == set()
    assert "next_update" in rules("The recall has ended. We are sorry for the trouble it caused.", "update")


@pytest.mark.parametrize(
    ("text", "rule", "quote"),
    [
        ("The cause is prоbаbly a pump.", "speculation", "prоbаbly"),  # Cyrillic о and а
        ("ＮＯ ＣＯＭＭＥＮＴ for now.", "no_comment", "ＮＯ ＣＯＭＭＥＮＴ"),
        ("本公司無可\u200b奉告。", "no_comment", "無可\u200b奉告"),
        ("這是個人行為。", "blame", "個人行為"),
    ],
)
def test_look_alikes_invisible_characters_and_traditional_script_hide_nothing(text, rule, quote):
    assert quotes(text, rule) == [quote]


@pytest.mark.parametrize(
    ("approved", "followup"),
    [
        ("The hearing is on 9 March.", "The hearing is on March 9th."),
        ("Doors open at 6pm.", "Doors open at 18:00."),
        ("我们将于3月9日复工。", "我們將於3月9號復工。"),
        ("我们将于晚上7点发布通报。", "通报将于19:00发布。"),
        ("Passengers were moved to an A350-900.", "Dear Passengers, you were moved to an A350-900."),
        ("Return the charger and call us.", "Two steps: 1. Return the charger. 2. Call us."),
        ("Our team is on site.", "Our Safety Team is on site."),
        ("我们正在协助消防部门。", "尊敬的旅客朋友们：我们正在协助消防部门。"),
    ],
)
def test_the_same_fact_written_another_way_is_no_finding(approved, followup):
    assert "consistency" not in rules(followup, approved=approved)


@pytest.mark.parametrize(
    ("approved", "followup", "quote"),
    [
        ("The hearing is on 9 March.", "The hearing is on March 10th.", "March 10th"),
        ("Passengers were moved to an A350-900.", "Passengers were moved to an A350-1000.", "A350-1000"),
        ("我们在成都设立了服务点。", "我们在重庆设立了服务点。", "重庆"),
        ("发言人刘洋回应了媒体。", "發言人陳思遠回應了媒體。", "陳思遠"),
        ("Doors open at 6pm.", "Doors open at 7pm.", "7pm"),
    ],
)
def test_a_changed_date_model_place_or_person_is_flagged(approved, followup, quote):
    assert quotes(followup, "consistency", approved=approved) == [quote]


def test_a_huge_or_empty_text_is_read_to_its_end_without_error():
    huge = "因" * 30_000 + "本公司無可奉告。"
    assert quotes(huge, "no_comment", approved="因") == ["無可奉告"]
    assert rules("\u200b\u200d\ufeff", "holding") == {"empathy", "confirmed_facts", "unknowns", "next_update", "commitment", "learn_more"}


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("维修费用的责任由承包商承担。", "blame"),
        ("維修費用的責任由承包商承擔。", "blame"),
        ("The fault was on their side, our courier says.", "blame"),
        ("We apologise to anyone who may have felt let down.", "hollow_apology"),
    ],
)
def test_more_ways_of_blame_and_hollow_apology(text, rule):
    assert rule in rules(text)


def test_owning_the_cost_is_not_blame():
    assert "blame" not in rules("维修费用由我们承担。")


def test_a_claim_reported_twice_in_one_sentence_is_repeated():
    assert "claim_repeated" in rules("有网友称桥梁开裂，也有网友称已封路。桥梁安全。", "rebuttal")
    assert "claim_repeated" not in rules("Claims circulating online that the bridge cracked are false. It is safe.", "rebuttal")
