"""Delivery lanes: which effects of one incident must keep their order among themselves."""


def outbox_lane(kind: str, payload: dict) -> str:
    """Which effects of an incident must keep their order: room messages among themselves, each DM recipient's, each
    target's, each edited message's; the card and the line stand alone (only their latest state matters). Everything
    also waits for the room to open (open_room is in the room lane and holds every lane back while it waits)."""
    to = str(payload.get("to") or "")[:60]
    if kind in ("refresh_card", "refresh_line"):
        return kind
    if kind == "edit":
        return f"edit:{payload.get('ref')}"
    if kind in ("dm", "publish", "answer"):
        return f"{kind}:{to}"
    return f"to:{to}" if to else "room"
