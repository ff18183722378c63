"""Publishing the approved line, verbatim, to the broadcast targets; and recording where it went."""

import re
import secrets

from sqlmodel import select

from config.model import BroadcastTarget
from handlers.core.context import Context
from handlers.core.effects import Publish
from handlers.core.errors import Refusal, UsageError
from handlers.core.verbs import verb
from handlers.desk import tracking as claims
from handlers.line import countersigning, outlets, statements
from handlers.line.reading import publications_text
from handlers.line.standing import page_address, page_lines
from handlers.line.states import APPROVED, CARRYING
from handlers.line.targets import by_name, chat_handles, limit_of, names
from handlers.signals import followup
from handlers.text.formatting import when
from handlers.text.i18n import N_, _
from handlers.text.markup import Message, fmt, lines
from storage.models import Publication, Statement

_URL = re.compile(r"^https?://\S{1,490}$")


def _no_line(ctx: Context) -> Refusal:
    return Refusal(
        fmt(
            _("#{id} has no approved line yet, so there is nothing to publish. Propose one with `/crisis draft <text>`."),
            id=ctx.incident.id,
        )
    )


def _no_such_target(ctx: Context, name: str) -> UsageError:
    return UsageError(fmt(_("No broadcast target “{name}”; the targets are: {targets}."), name=name[:40], targets=names(ctx.config)))


def _chosen(ctx: Context, current: Statement) -> list[BroadcastTarget]:
    """The targets named after the verb (after an optional vN, which must be the line), or every configured target."""
    if not ctx.config.broadcast:
        raise Refusal(_("No broadcast targets are configured: add them under `broadcast:` in onevoice.yaml."))
    words = ctx.args.split()
    if words and (version := statements.parse_version(words[0])) is not None:
        if version != current.version:
            raise Refusal(
                fmt(
                    _("v{n} is no longer the approved line; v{m} is. Publish it with `/crisis publish`."),
                    n=words[0].lstrip("vV")[:12],
                    m=current.version,
                )
            )
        words = words[1:]
    if not words:
        return list(ctx.config.broadcast)
    for word in words:
        if by_name(ctx.config, word) is None:
            raise _no_such_target(ctx, word)
    return list({id(t): t for t in (by_name(ctx.config, w) for w in words) if t is not None}.values())


def _existing(ctx: Context, statement: Statement, target: str, platform: str) -> Publication | None:
    return ctx.session.exec(
        select(Publication).where(Publication.statement_id == statement.id, Publication.target == target, Publication.platform == platform)
    ).first()


def _record(ctx: Context, statement: Statement, target: str, platform: str, state: str, url: str | None = None) -> Publication | None:
    """A new publication row, or a failed one tried again; None when the target already carries this version."""
    row = _existing(ctx, statement, target, platform)
    if row is not None and row.state in (*CARRYING, "simulated"):
        return None
    row = row or Publication(incident_id=ctx.incident.id, statement_id=statement.id, target=target, platform=platform, by=ctx.actor.key)
    row.state, row.by, row.at, row.error, row.url = state, ctx.actor.key, ctx.now, None, url
    row.sent_at = ctx.now if state == "sent" else None
    ctx.session.add(row)
    ctx.session.flush()
    if state in claims.PUBLISHED:
        claims.answer_published(ctx.session, statement.id, ctx.now)
    return row


@verb(
    "publish",
    usage=N_("[target …]"),
    summary=N_("Send the approved line, verbatim, to the broadcast targets."),
    who=("spokesperson", "commander"),
)
def publish(ctx: Context) -> Message:
    """Queue the current approved text for each chat target, record the page, and list what must be posted by hand."""
    # A shared lock: an approval superseding this version waits until the publication is recorded, then lists it to republish.
    current = ctx.session.exec(
        select(Statement).where(Statement.incident_id == ctx.incident.id, Statement.state == APPROVED).with_for_update(read=True)
    ).first()
    if current is None:
        raise _no_line(ctx)
    chosen = _chosen(ctx, current)
    countersigning.refuse_publishing(ctx, current)
    too_long = [t for t in chosen if not t.manual and (limit := limit_of(t)) and len(current.text) > limit]
    if too_long:
        raise Refusal(
            fmt(
                _("v{n} is {size} characters long, too long for {targets}. Name the other targets, or approve a shorter version."),
                n=current.version,
                size=len(current.text),
                targets=", ".join(f"{t.name} ({limit_of(t)})" for t in too_long),
            )
        )
    if ctx.incident.drill:
        return _simulate(ctx, current, chosen)
    sent, already, offline, by_hand, mailed = [], [], [], [], {}
    page_before, addressed = ctx.incident.public_id, False
    for target in chosen:
        if target.manual:
            by_hand.append(target)
            _record(ctx, current, target.name, "manual", "by_hand")  # the same status in line, the card and the report
            continue
        outside = outlets.kind_of(target)
        where = [("page", "")] if target.page else [(outside, "")] if outside else chat_handles(target)
        for platform, channel in where:
            if platform != "page" and platform not in (*ctx.deps.platforms, *ctx.deps.channels):
                if platform != "console":  # the terminal is for trying things out, never missed
                    offline.append(f"{target.name} ({platform.capitalize()})")
                    _record(ctx, current, target.name, platform, "offline")  # told once and kept: "not connected here"
                continue
            if platform == "page" and ctx.incident.public_id is None:
                ctx.incident.public_id = secrets.token_urlsafe(9)  # unguessable: the page exists only once published to
            address = page_address(ctx.deps.public_url, ctx.incident.public_id) if platform == "page" else None
            row = _record(ctx, current, target.name, platform, "sent" if platform == "page" else "queued", address)
            if row is None:
                already.append(target.name)
                addressed = _give_address(ctx, current, target.name, address) or addressed
            elif platform in outlets.OUTSIDE:
                count = outlets.queue_outside(ctx, current, target, row)
                if platform == "mail":
                    mailed[target.name] = count
                sent.append(target.name)
            elif platform != "page":
                ctx.emit(platform, Publish(publication_id=row.id, to=channel))
                sent.append(target.name)
            else:
                sent.append(target.name)
    if not sent and not addressed:
        raise Refusal(lines(_nothing_sent(current, already, offline), _by_hand(by_hand, len(current.text))))
    if sent:
        ctx.log("publish", f"v{current.version}", version=current.version, targets=sent)
        followup.expect(ctx.session, ctx.incident.id, current.version, ctx.now)  # §7: how it landed, 1 h and 4 h later
    ctx.refresh_card()
    header = fmt(
        _("📣 **v{n} published** by {who} to {targets}."), n=current.version, who=ctx.actor.name, targets=", ".join(dict.fromkeys(sent))
    )
    standing = publications_text(ctx.session, ctx.config, current.id, ctx.now)
    page = page_lines(ctx.session, ctx.incident, first=page_before is None or addressed)
    if not sent:  # only the page's address was new: the room is told it, nothing was sent again
        return ctx.announce(lines(page, standing))
    sending = outlets.sending_note(mailed)
    return ctx.announce(lines(header, sending, standing, page, _nothing_sent(None, already, []), _by_hand(by_hand, len(current.text))))


def _give_address(ctx: Context, current: Statement, target: str, address: str | None) -> bool:
    """A page published to before the public address was set gets it now (the same page, the same id)."""
    row = _existing(ctx, current, target, "page")
    if not address or row is None or row.state != "sent" or row.url:
        return False
    row.url = address
    ctx.session.add(row)
    return True


def _nothing_sent(current: Statement | None, already: list[str], offline: list[str]) -> Message:
    parts = []
    if already:
        parts.append(fmt(_("Already carrying this version: {targets}."), targets=", ".join(dict.fromkeys(already))))
    if offline:
        parts.append(fmt(_("Configured on platforms not connected here, so not sent there: {targets}."), targets=", ".join(offline)))
    if current is not None and not parts:
        parts.append(fmt(_("Nothing to send for v{n}."), n=current.version))
    return lines(*parts)


def _by_hand(targets: list[BroadcastTarget], size: int) -> Message:
    if not targets:
        return Message()
    listed = ", ".join(f"{t.name} (≤ {t.limit})" if t.limit else t.name for t in targets)
    message = fmt(_("Post by hand: {targets} — then record each with `/crisis published <target> <url>`."), targets=listed)
    too_long = [t.name for t in targets if t.limit and size > t.limit]
    if too_long:
        message = lines(
            message, fmt(_("Too long for {targets} as it stands: post a shortened version there."), targets=", ".join(too_long))
        )
    return message


def _simulate(ctx: Context, current: Statement, chosen: list[BroadcastTarget]) -> Message:
    """A drill rehearses publishing: recorded as simulated, nothing leaves the drill room."""
    for target in chosen:
        _record(ctx, current, target.name, "drill", "simulated")
    ctx.log("publish", f"v{current.version}", version=current.version, targets=[t.name for t in chosen], simulated=True)
    followup.expect(ctx.session, ctx.incident.id, current.version, ctx.now)  # a drill rehearses the follow-ups too
    ctx.refresh_card()
    return ctx.announce(
        fmt(
            _("🧪 DRILL: v{n} would now go to {targets}. Nothing was sent outside."),
            n=current.version,
            targets=", ".join(t.name for t in chosen),
        )
    )


@verb(
    "published",
    usage=N_("<target> [url]"),
    summary=N_("Record a publication made by hand (website, Weibo, press)."),
    who=("spokesperson", "comms"),
)
def published(ctx: Context) -> Message:
    """Record that the current line was posted by hand on a manual target; with no words, show where it is."""
    current = statements.current_line(ctx.session, ctx.incident.id)
    words = ctx.args.split()
    if current is None:
        raise _no_line(ctx)
    if not words:
        return lines(
            fmt(_("Where v{n} of #{id} is:"), n=current.version, id=ctx.incident.id),
            publications_text(ctx.session, ctx.config, current.id, ctx.now),
            page_lines(ctx.session, ctx.incident),
        )
    if len(words) > 2:
        raise UsageError(fmt(_("Unexpected “{word}”."), word=words[2][:40]))
    target = by_name(ctx.config, words[0])
    if target is None:
        raise _no_such_target(ctx, words[0])
    if not target.manual:
        raise Refusal(fmt(_("{name} is published by the bot: use `/crisis publish {name}`."), name=target.name))
    url = words[1] if len(words) == 2 else None
    if url is not None and not _URL.match(url):
        raise UsageError(fmt(_("“{url}” is not a link: give the full address, starting with https://."), url=url[:60]))
    if ctx.incident.drill:
        raise Refusal(fmt(_("#{id} is a drill: nothing is published outside, so there is nothing to record."), id=ctx.incident.id))
    countersigning.refuse_publishing(ctx, current)  # posting by hand is publishing too: not before the countersignature
    row = _existing(ctx, current, target.name, "manual")
    if row is not None and row.state == "sent" and (url is None or url == row.url):
        recorded = when(ctx.config, row.sent_at, ctx.now)
        raise Refusal(fmt(_("{name} already carries v{n} (recorded {at})."), name=target.name, n=current.version, at=recorded))
    if row is not None and row.state == "sent":
        row.url = url  # the link came later than the post
        ctx.session.add(row)
    else:
        _record(ctx, current, target.name, "manual", "sent", url)
    ctx.log("published", target.name, version=current.version, url=url)
    followup.expect(ctx.session, ctx.incident.id, current.version, ctx.now)
    ctx.refresh_card()
    limit = limit_of(target)
    warning = fmt(_("Note: v{n} is longer than {name}'s limit of {limit}."), n=current.version, name=target.name, limit=limit)
    header = fmt(_("🗞 v{n} recorded as published on {name} by {who}."), n=current.version, name=target.name, who=ctx.actor.name)
    return ctx.announce(
        lines(header + (fmt(" {url}", url=url) if url else Message()), warning if limit and len(current.text) > limit else Message())
    )
