"""Broadcast targets: where `publish` sends the approved line, and how long a text each takes."""

from config.model import BroadcastTarget, Config

CHAT_PLATFORMS = ("slack", "telegram", "console", "matrix")
PLATFORM_LIMITS = {"telegram": 4096}  # a Telegram message; Slack's 40,000 is beyond any statement


def limit_of(target: BroadcastTarget) -> int | None:
    """The most characters a target takes: its configured limit, else its platform's."""
    if target.limit:
        return target.limit
    limits = [PLATFORM_LIMITS[p] for p in CHAT_PLATFORMS if p in PLATFORM_LIMITS and getattr(target, p, None) is not None]
    return min(limits) if limits else None


def target_limits(config: Config) -> dict[str, int]:
    """Target name → character limit, for the targets that have one."""
    return {t.name: limit for t in config.broadcast if (limit := limit_of(t))}


def chat_handles(target: BroadcastTarget) -> list[tuple[str, str]]:
    """(platform, channel) for each chat the target posts to."""
    return [(p, str(getattr(target, p))) for p in CHAT_PLATFORMS if getattr(target, p, None) is not None]


def by_name(config: Config, name: str) -> BroadcastTarget | None:
    """A target by its configured name, case-insensitively."""
    return next((t for t in config.broadcast if t.name.lower() == name.lower()), None)


def names(config: Config) -> str:
    """Every target's name, for a usage hint."""
    return ", ".join(t.name for t in config.broadcast) or "—"
