"""Naming people and roles in commands: mentions, keys, and the team model."""

import re
import unicodedata

from sqlmodel import select

from config.model import Person
from handlers.core.context import Context
from handlers.core.errors import Refusal
from handlers.text.formatting import role_name
from handlers.text.i18n import _
from handlers.text.markup import fmt
from storage.models import LearnedName, PersonHandle

# `@alice`, Slack `<@U123>` or `<@U123|alice>`, and adapters' `@<id>` forms.
_MENTION = re.compile(r"^(?:<@([A-Za-z0-9_.-]+)(?:\|[^>]*)?>|@([\w.-]+))$")


def is_mention(token: str) -> bool:
    """Whether a word names a person by mention (＠name, as a full-width input method types it, too)."""
    return bool(_mention(token))


def _mention(token: str) -> re.Match | None:
    return _MENTION.match(unicodedata.normalize("NFKC", token))


def resolve_person(ctx: Context, token: str) -> Person:
    """The team member a mention names, or a refusal listing who is on the team."""
    match = _mention(token)
    if not match:
        raise Refusal(fmt(_("“{token}” is not a mention: name people as @name."), token=token[:60]))
    ident = match.group(1) or match.group(2)
    people = ctx.config.team.people
    platform = ctx.command.user.platform
    key = _by_key(people, ident) or _by_handle(ctx, platform, ident) or _by_learned_name(ctx, platform, ident)
    if key is None or key not in people:
        raise Refusal(
            fmt(
                _("{who} is not a member of the team. Team members: {members}."), who=token[:60], members=", ".join(f"@{k}" for k in people)
            )
        )
    return people[key]


def _by_key(people: dict, ident: str) -> str | None:
    """A person key wins over any platform name: `@frank` is always the member whose key is frank."""
    lowered = ident.lower()
    return next((key for key in people if key.lower() == lowered), None)


def _by_handle(ctx: Context, platform: str, ident: str) -> str | None:
    query = select(PersonHandle.person).where(PersonHandle.platform == platform, PersonHandle.external_id == ident)
    return ctx.session.exec(query).first()


def _by_learned_name(ctx: Context, platform: str, ident: str) -> str | None:
    """A user name seen on a member's own messages, while it is still that member's (their id unchanged in the model)."""
    learned = ctx.session.exec(select(LearnedName).where(LearnedName.platform == platform, LearnedName.name == ident.lower())).first()
    if learned is None:
        return None
    current = ctx.session.exec(
        select(PersonHandle.person).where(PersonHandle.platform == platform, PersonHandle.external_id == learned.external_id)
    ).first()
    return learned.person if current == learned.person else None


def resolve_role(ctx: Context, word: str) -> str:
    """A role key, or a refusal listing the roles."""
    key = unicodedata.normalize("NFKC", word).casefold()
    if key not in ctx.config.team.roles:
        raise Refusal(fmt(_("There is no role “{role}”. Roles: {roles}."), role=word[:40], roles=", ".join(ctx.config.team.roles)))
    return key


def role_title(ctx: Context, role: str) -> str:
    """A role's title in the team's language."""
    return role_name(ctx.config, role)
