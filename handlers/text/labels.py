"""Every label set users see, one table each, and the one helper that says a key in the language being spoken."""

from collections.abc import Mapping

from handlers.text.i18n import N_, _

PHASE = {
    "detected": N_("detected"),
    "assessing": N_("assessing"),
    "responding": N_("responding"),
    "recovering": N_("recovering"),
    "resolved": N_("resolved"),
    "closed": N_("closed"),
}
VERSION_STATE = {"pending": N_("pending"), "approved": N_("current"), "superseded": N_("superseded"), "rejected": N_("rejected")}
OUTCOME = {"approved": N_("approved"), "rejected": N_("rejected"), "set_aside": N_("set aside"), "pending": N_("pending")}
SEVERITY = {
    "sev1": N_("severity 1 — critical"),
    "sev2": N_("severity 2 — serious"),
    "sev3": N_("severity 3 — moderate"),
    "sev4": N_("severity 4 — minor"),
}
REMINDER = {
    "role_ack": N_("role not accepted"),
    "role_unfilled": N_("role unfilled"),
    "task_overdue": N_("checklist item overdue"),
    "first_statement": N_("first statement due"),
    "update_due": N_("update late"),
    "approval_pending": N_("approval waiting"),
    "review_due": N_("review meeting due"),
    "action_due": N_("follow-up action due"),
    "drill_inject": N_("drill event"),
}
INJECT_KIND = {
    "social_post": N_("Social media post"),
    "journalist_call": N_("Journalist's call"),
    "regulator_question": N_("Regulator's question"),
    "volume_spike": N_("Volume spike"),
    "internal_leak": N_("Internal leak"),
    "customer_complaint": N_("Customer complaints"),
    "partner_call": N_("Partner's call"),
    "family_call": N_("Call from a family"),
}


def label(table: Mapping[str, str], key: str) -> str:
    """The label of key in the language being spoken; an unknown key as it is."""
    return _(table[key]) if key in table else key
