"""A severity as people type it: `sev2`, `SEV2`, or a bare `2` where the verb allows it."""

import re

from config.model import SEVERITIES, Severity
from handlers.core.cleaning import keyword

_SEVERITY = re.compile(r"^(sev)?([0-9]+)$", re.IGNORECASE)


def parse_severity(word: str, bare_number: bool = True) -> Severity | None:
    """'sev2', 'SEV2' (or '2' where a bare number is allowed) → 'sev2'; anything else → None."""
    match = _SEVERITY.match(keyword(word))  # ｓｅｖ１ as a full-width input method types it, too
    if not match or not (match.group(1) or bare_number) or match.group(2) not in ("1", "2", "3", "4"):
        return None
    return SEVERITIES[int(match.group(2)) - 1]
