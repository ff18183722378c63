"""What a Slack request must be before Bolt reads it: signed by Slack, and shaped as our listeners read it. A request that
is not is refused at the edge (400 when signed, 401 when not), never a 500 with a traceback from inside a listener."""

import hashlib
import hmac
import json
import time
from urllib.parse import parse_qsl


def unreadable(body: bytes, content_type: str | None) -> bool:
    """A body Slack never sends and our listeners cannot read: not UTF-8, JSON (or a `payload=` field) that is not an
    object, or one not shaped as Slack sends it (below)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    if content_type == "application/json" or text.startswith("{"):
        raw = text  # Bolt's own test for a JSON body
    else:
        fields = dict(parse_qsl(text, keep_blank_values=True))
        raw = fields.get("payload")
        if raw is None:
            return slash_misshapen(fields) is not None
    try:
        payload = json.loads(raw)
    except ValueError:
        return True
    return not isinstance(payload, dict) or misshapen(payload) is not None


def signed_by_slack(secret: str, body: bytes, headers) -> bool:
    """Slack's v0 signature over the raw bytes, within five minutes (slack_sdk's verifier needs a UTF-8 body)."""
    stamp, signature = headers.get("x-slack-request-timestamp", ""), headers.get("x-slack-signature", "")
    if not stamp.isdigit() or abs(time.time() - int(stamp)) > 300:
        return False
    expected = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"v0={expected}", signature)


def misshapen(payload: dict) -> str | None:
    """Why a JSON payload (a button click, a form, an event) is not shaped as Slack sends it; None when it is."""
    kind = payload.get("type")
    if kind in ("block_actions", "view_submission") and not (isinstance(payload.get("user"), dict) and _text(payload["user"].get("id"))):
        return "no user id"
    if kind == "block_actions":
        return _click(payload)
    if kind == "view_submission":
        return _form(payload.get("view"))
    if kind == "event_callback" and not isinstance(payload.get("event"), dict):
        return "an event that is not an object"
    return None


def slash_misshapen(fields: dict) -> str | None:
    """Why a slash command's form fields are not what Slack sends; None when they are."""
    return "no user_id" if "command" in fields and not fields.get("user_id") else None


def _click(payload: dict) -> str | None:
    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions or not all(isinstance(action, dict) for action in actions):
        return "no actions"
    if not all(_optional_text(action.get(name)) for action in actions for name in ("value", "action_id", "action_ts")):
        return "an action field that is not text"
    if not all(payload.get(name) is None or isinstance(payload[name], dict) for name in ("channel", "container")):
        return "a channel or container that is not an object"
    if not _text(payload.get("trigger_id")) or not _optional_text(payload.get("response_url")):
        return "no trigger_id, or a response_url that is not text"
    return None


def _form(view) -> str | None:
    if not isinstance(view, dict) or not _optional_text(view.get("private_metadata")):
        return "a view without its metadata"
    values = (view.get("state") or {}).get("values") if isinstance(view.get("state"), dict) else None
    if not isinstance(values, dict) or not all(isinstance(block, dict) for block in values.values()):
        return "a view without its state"
    for field in (field for block in values.values() for field in block.values()):
        if not isinstance(field, dict) or not _optional_text(field.get("value")):
            return "a form field that is not text"
        if not (field.get("selected_option") is None or isinstance(field["selected_option"], dict)):
            return "a selected option that is not an object"
        if isinstance(field.get("selected_option"), dict) and not _optional_text(field["selected_option"].get("value")):
            return "a selected option that is not text"
    return None


def _text(value) -> bool:
    return isinstance(value, str) and bool(value)


def _optional_text(value) -> bool:
    return value is None or isinstance(value, str)
