"""Typed nudge subjects: written and read back through one template per shape; the texts already stored still read."""

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.nudges import kinds
from handlers.nudges.subjects import Action, BadSubject, Inject, Item, Nothing, Role, RoleHolder, Stage, Subject, VersionRole

ROOT = Path(__file__).resolve().parents[2]

# What rows written before the types existed hold (as staffing, declare, approvals, lessons and injects wrote them).
STORED = [
    (kinds.ROLE_ACK, "legal:bob", RoleHolder("legal", "bob")),
    (kinds.ROLE_UNFILLED, "monitor", Role("monitor")),
    (kinds.TASK_OVERDUE, "15", Item(15)),
    (kinds.FIRST_STATEMENT, "warning", Stage("warning")),
    (kinds.FIRST_STATEMENT, "deadline", Stage("deadline")),
    (kinds.UPDATE_DUE, "", Nothing()),
    (kinds.APPROVAL_PENDING, "v3:legal", VersionRole(3, "legal")),
    (kinds.REVIEW_DUE, "", Nothing()),
    (kinds.ACTION_DUE, "a4", Action(4)),
    (kinds.DRILL_INJECT, "i2", Inject(2)),
]


@pytest.mark.parametrize(("kind", "stored", "subject"), STORED, ids=[f"{k.name}:{s}" for k, s, _v in STORED])
def test_a_stored_subject_reads_as_its_type_and_writes_back_the_same_text(kind, stored, subject):
    assert kind.subject.parse(stored) == subject
    assert kind.store(subject) == stored


@pytest.mark.parametrize(
    ("shape", "stored"),
    [
        (VersionRole, "vX:legal"),
        (VersionRole, "v3"),
        (VersionRole, "3:legal"),
        (VersionRole, "v03:legal"),  # a second spelling of 3 would not match the row written as v3
        (VersionRole, "v-1:legal"),
        (VersionRole, "v3:"),
        (VersionRole, "v１:legal"),  # a full-width digit
        (VersionRole, "v99999999999:legal"),
        (RoleHolder, "legal"),
        (RoleHolder, ":bob"),
        (Role, ""),
        (Item, "x3"),
        (Item, "3 "),
        (Item, "٣"),  # an Arabic-Indic digit
        (Action, "a"),
        (Action, "A4"),
        (Action, "a4x"),
        (Inject, "2"),
        (Stage, "soon"),
        (Nothing, "anything"),
        (Item, None),
    ],
)
def test_a_malformed_stored_subject_is_a_clear_refusal_not_a_crash(shape, stored):
    with pytest.raises(BadSubject, match=shape.__name__):
        shape.parse(stored)


@pytest.mark.parametrize(
    "make",
    [lambda: RoleHolder("le:gal", "bob"), lambda: Item(-1), lambda: VersionRole(3, ""), lambda: Stage("later"), lambda: Role("")],
)
def test_a_subject_that_could_not_be_read_back_cannot_be_made(make):
    with pytest.raises(BadSubject):
        make()


def test_a_subject_of_another_shape_is_refused_by_the_kind():
    with pytest.raises(TypeError, match="approval_pending is about a VersionRole"):
        kinds.APPROVAL_PENDING.store(Item(3))


KEYS = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)


@given(version=st.integers(0, 999_999_999), role=KEYS)
def test_version_and_role_round_trip(version, role):
    subject = VersionRole(version, role)
    assert VersionRole.parse(subject.format()) == subject


@given(role=KEYS.filter(lambda key: ":" not in key), person=KEYS)
def test_role_and_holder_round_trip(role, person):
    subject = RoleHolder(role, person)
    assert RoleHolder.parse(subject.format()) == subject


@given(stored=st.text(max_size=30))
def test_any_stored_text_reads_or_is_refused_and_what_reads_writes_back_unchanged(stored):
    for shape in Subject.__subclasses__():  # every shape, those added later too
        try:
            subject = shape.parse(stored)
        except BadSubject:
            continue
        assert subject.format() == stored


def test_no_module_takes_a_subject_apart_or_spells_one_by_hand():
    """Subjects are parsed and formatted in subjects.py only (they used to be split in six places)."""
    taken_apart = r"\.subject\s*(\.split|\.partition|\.startswith|\[(?!:))"  # a `[:40]` that shortens it for a log is fine
    by_hand = re.compile(taken_apart + r"|\bsubject=f\"|^\s*subject\s*=\s*f\"|Nudge\.subject\s*==\s*f\"")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for top in ("handlers", "bot")
        for path in (ROOT / top).rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if by_hand.search(line)
    ]
    assert offenders == []
