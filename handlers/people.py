"""Naming people and roles in commands: mentions, keys, and the team model."""

import re

from sqlmodel import select

from config.model import Person
from handlers.context import Context
from handlers.errors import Refusal
from handlers.i18n import _
from handlers.markup import fmt
from storage.models import PersonHandle

# `@alice`, Slack `<@U123>` or `<@U123|alice>`, and adapters' `@<id>` forms.
_MENTION = re.compile(r"^(?:<@([A-Za-z0-9_.-]+)(?:\|[^>]*)?>|@([\w.-]+))$")


def is_mention(token: str) -> bool:
    """Whether a word names a person by mention."""
    return bool(_MENTION.match(token))


def resolve_person(ctx: Context, token: str) -> Person:
    """The team member a mention names, or a refusal listing who is on the team."""
    match = _MENTION.match(token)
    if not match:
        raise Refusal(fmt(_("“{token}” is not a mention: name people as @name."), token=token[:60]))
    ident = match.group(1) or match.group(2)
    people = ctx.config.team.people
    platform = ctx.command.user.platform
    key = ctx.session.exec(select(PersonHandle.person).where(PersonHandle.platform == platform, PersonHandle.external_id == ident)).first()
    if key is None:
        lowered = ident.lower()
        key = next((k for k in people if k.lower() == lowered), None)
    if key is None or key not in people:
        raise Refusal(
            fmt(
                _("{who} is not a member of the team. Team members: {members}."), who=token[:60], members=", ".join(f"@{k}" for k in people)
            )
        )
    return people[key]


def resolve_role(ctx: Context, word: str) -> str:
    """A role key, or a refusal listing the roles."""
    key = word.lower()
    if key not in ctx.config.team.roles:
        raise Refusal(fmt(_("There is no role “{role}”. Roles: {roles}."), role=word[:40], roles=", ".join(ctx.config.team.roles)))
    return key


def role_title(ctx: Context, role: str) -> str:
    """A role's title in the team's language."""
    spec = ctx.config.team.roles.get(role)
    return spec.title.get(ctx.config.language) if spec else role
