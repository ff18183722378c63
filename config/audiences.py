"""Who hears from the team outside it (PRODUCT.md §4, §10, §11): the broadcast targets `publish` sends the line to, and
the stakeholder lists `notify` tells, with their addresses checked."""

import re
from typing import Annotated
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from config.basics import Localized, MatrixRoom, Severity, Strict
from config.durations import Duration
from config.errors import N_


def _email_address(value: str) -> str:
    """An e-mail address as the validator pydantic uses reads it (syntax only: no DNS at load), normalised."""
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValueError(f"{value!r} is not an e-mail address: {error}") from None


def _webhook_url(value: str) -> str:
    """An absolute http(s) address with a host, and nothing a request line cannot carry."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value) or len(value) > 2000:
        raise ValueError(f"{value[:80]!r} is not a webhook address: give the full http:// or https:// address")
    return value


EmailAddress = Annotated[str, AfterValidator(_email_address)]
WebhookUrl = Annotated[str, AfterValidator(_webhook_url)]


class BroadcastTarget(Strict):
    """Where `publish` sends the approved line."""

    name: str
    slack: str | None = None
    telegram: str | int | None = None
    console: str | None = None
    matrix: MatrixRoom | None = None
    manual: bool = False
    page: bool = False
    limit: int | None = Field(default=None, gt=0)
    email: list[EmailAddress] | None = Field(default=None, min_length=1, max_length=500)  # one e-mail per address (§11)
    webhook: WebhookUrl | None = None  # a signed JSON POST to this http(s) address (§11)
    secret_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")  # the variable holding its secret

    @model_validator(mode="after")
    def _one_kind(self) -> "BroadcastTarget":
        """An e-mail or webhook target is only that; a webhook is always signed."""
        if self.webhook is not None and self.secret_env is None:
            raise ValueError("a webhook target needs `secret_env`: the environment variable holding the secret it is signed with")
        if self.secret_env is not None and self.webhook is None:
            raise ValueError("`secret_env` belongs to a webhook target")
        outside = [kind for kind in ("email", "webhook") if getattr(self, kind) is not None]
        others = [kind for kind in ("slack", "telegram", "console", "matrix", "manual", "page") if getattr(self, kind) not in (None, False)]
        if outside and (len(outside) > 1 or others):
            raise ValueError(f"a target is one kind: {', '.join(outside + others)} must be separate targets")
        return self


# Our own validation errors, as templates the shell translates (config/load.py reads them by their type).
TOLD = {
    "onevoice_stakeholders_playbook": N_("stakeholders.{list}: unknown playbook “{playbook}”; expected one of {known}"),
    "onevoice_email": N_("“{value}” is not an e-mail address"),
    "onevoice_phone": N_("“{value}” is not a phone number (digits, spaces and + ( ) - only)"),
    "onevoice_contact": N_("contact “{name}” has neither an email nor a phone: give one of them"),
}


def told(kind: str, **args: str) -> PydanticCustomError:
    """A validation error of ours: its template and values, so the shell can say it in the team's language."""
    return PydanticCustomError(kind, TOLD[kind], args)


_PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{3,30}$")


def mail_address(value: str) -> str:
    """An e-mail address checked by its syntax (no DNS), in its normal form; PydanticCustomError when it is not one."""
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise told("onevoice_email", value=value[:80]) from None


class Contact(Strict):
    """Someone on a stakeholder list: an address to e-mail, or a number to call."""

    name: str = Field(min_length=1, max_length=120)
    email: Annotated[str, AfterValidator(mail_address)] | None = None
    phone: str | None = None

    @field_validator("phone")
    @classmethod
    def _callable(cls, value: str | None) -> str | None:
        if value is not None and not _PHONE.match(value.strip()):
            raise told("onevoice_phone", value=value[:40])
        return value if value is None else value.strip()

    @model_validator(mode="after")
    def _reachable(self) -> "Contact":
        if self.email is None and self.phone is None:
            raise told("onevoice_contact", name=self.name)
        return self


class StakeholderList(Strict):
    """A named list told by `notify` (PRODUCT.md §10): its contacts, the playbooks that require it, its deadlines."""

    key: str = ""
    title: Localized
    playbooks: list[str] = Field(default_factory=list)  # required (with a deadline nudge) in incidents of these playbooks
    deadline: dict[Severity, Duration] = Field(default_factory=dict)  # from the declaration, per severity
    contacts: list[Contact] = Field(min_length=1)
