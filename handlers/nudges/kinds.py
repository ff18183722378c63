"""One record per nudge kind: what it is about, its pace, cap and ladder, when it keeps quiet, what clears it.

Data only: a feature names the record of what it promises (`kinds.APPROVAL_PENDING`) without importing any message
text. What a kind says is in words.py (outside.py for the kinds about stakeholders, press, claims and reaction), which
only the firing side reads. Scheduling, firing, escalation and the message all read the record, and nothing else names
a kind's pace, cap or ladder (docs/architecture.md, "Add a reminder (nudge) kind").
"""

from datetime import timedelta

from handlers.nudges.record import Kind, always, never
from handlers.nudges.subjects import (
    Action,
    Aftermath,
    Audience,
    ClaimRef,
    Inject,
    Item,
    Nothing,
    Question,
    Role,
    RoleHolder,
    Stage,
    VersionRole,
)

ROLE_ACK = Kind(
    name="role_ack",
    subject=RoleHolder,
    clears="ack",
    repeat=timedelta(minutes=10),  # also how long a new holder has to acknowledge (and the drill scorecard's target)
    cap=1,  # the holder hears once, then the commander (PRODUCT.md §5)
    ladder=("role:commander", "backup:{role}"),
)

ROLE_UNFILLED = Kind(
    name="role_unfilled",
    subject=Role,
    clears="assign {role} @someone",
    repeat=timedelta(minutes=10),  # also how long a required role may stay empty
    ladder=("role:exec",),
)

TASK_OVERDUE = Kind(
    name="task_overdue",
    subject=Item,
    clears="done {n}",
    repeat=timedelta(minutes=30),
    ladder=("role:commander", "role:exec"),
)

FIRST_STATEMENT = Kind(
    name="first_statement",
    subject=Stage,
    clears="approve",
    repeat=timedelta(minutes=15),  # the warning goes one pace before the deadline; after it, every pace (PRODUCT.md §4)
    cap=1,
    ladder=("role:exec",),
)

UPDATE_DUE = Kind(
    name="update_due",
    subject=Nothing,
    clears="update <text>",
    ladder=("role:exec",),  # its pace is the severity's update cadence, which the scheduler passes
)

APPROVAL_PENDING = Kind(
    name="approval_pending",
    subject=VersionRole,
    clears="approve {version}",
    cap=1,  # the approver hears once, then their backup (PRODUCT.md §4); the pace is the severity's approval wait
    ladder=("backup:{role}", "role:commander"),
    live=False,  # a version in flight is set aside by its own rules when the incident resolves
)

REVIEW_DUE = Kind(
    name="review_due",
    subject=Nothing,
    clears="close",
    repeat=timedelta(days=1),
    ladder=("role:exec",),
    quiet=always,
    live=False,
)

ACTION_DUE = Kind(
    name="action_due",
    subject=Action,
    clears="done {key}",
    repeat=timedelta(days=1),
    ladder=("role:commander", "role:exec"),
    quiet=always,
    live=False,
    after_close=True,  # follow-up actions are tracked after close too
)

DRILL_INJECT = Kind(
    name="drill_inject",
    subject=Inject,
    clears="answer {key}",
    scripted=True,  # handlers/drills/injects.py posts it in the drill room on the minute, never repeated
    quiet=never,
)

COUNTERSIGN_PENDING = Kind(
    name="countersign_pending",
    subject=VersionRole,
    clears="approve {version}",
    cap=1,  # like a pending approval (PRODUCT.md §4): the signer hears once, then their backup; the pace is the approval wait
    ladder=("backup:{role}", "role:commander"),
    live=False,
)

# The kinds about the world outside the team (PRODUCT.md §7, §10); their words are in outside.py.

STAKEHOLDER_DEADLINE = Kind(
    name="stakeholder_deadline",
    subject=Audience,
    clears="notify {key}",
    repeat=timedelta(minutes=15),
    cap=2,  # the liaison and the commander hear it twice, then the executive sponsor (PRODUCT.md §10)
    ladder=("role:exec",),
)

INQUIRY_OVERDUE = Kind(
    name="inquiry_overdue",
    subject=Question,
    clears="answer {key}",
    repeat=timedelta(minutes=15),
    cap=1,  # the spokesperson hears once, then the commander (PRODUCT.md §10)
    ladder=("role:commander",),
)

CLAIM_UNANSWERED = Kind(
    name="claim_unanswered",
    subject=ClaimRef,
    clears="rebut {key}",
    repeat=timedelta(minutes=15),  # its deadline is the severity's `claims.answer_within`; then every 15 min
    cap=2,
    ladder=("role:exec",),
)

REACTION_FOLLOW_UP = Kind(
    name="reaction_follow_up",
    subject=Aftermath,
    clears="reaction",
    scripted=True,  # handlers/signals/followup.py posts the figures in the room, or nothing when no signal is attached
    quiet=never,
    live=False,  # how a statement landed is still worth telling after the incident is resolved
)

NOT_LANDING = Kind(
    name="not_landing",
    subject=Aftermath,
    clears="reaction",
    cap=1,  # once: comms and the commander hear it, nobody climbs a ladder for it
    live=False,
)


# Every kind, by the name stored in `nudge.kind`.
KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        ROLE_ACK,
        ROLE_UNFILLED,
        TASK_OVERDUE,
        FIRST_STATEMENT,
        UPDATE_DUE,
        APPROVAL_PENDING,
        REVIEW_DUE,
        ACTION_DUE,
        DRILL_INJECT,
        COUNTERSIGN_PENDING,
        STAKEHOLDER_DEADLINE,
        INQUIRY_OVERDUE,
        CLAIM_UNANSWERED,
        REACTION_FOLLOW_UP,
        NOT_LANDING,
    )
}


def live() -> tuple[Kind, ...]:
    """The kinds that belong to the live response, which resolving the incident stops."""
    return tuple(kind for kind in KINDS.values() if kind.live)
