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
