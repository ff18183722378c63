"""The public statement page over HTTP: `/s/<id>` (HTML), `.json` and `.atom`, with strong ETags and a short in-process cache.

A traffic spike on a page costs little twice over: browsers and CDNs may reuse a response for 30 s and revalidate it
with If-None-Match (→ 304, no body); and this process renders each (page, format) at most once per CACHE_SECONDS,
concurrent misses sharing one database read, done in the page's own few threads (so a flood of misses cannot hold
up chat commands in the default executor). So a new version appears at most CACHE_SECONDS later here (plus the 30 s
that shared caches may keep the old one). Unknown ids, drills and pages not yet published to are the same 404.
"""

import asyncio
import hashlib
import json
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime as http_date
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.app import OneVoice
from config.model import Config
from handlers.line.composing import BABEL_LOCALE
from handlers.line.page import PageData, ShownVersion, page_for
from handlers.text.formatting import zone_name
from handlers.text.i18n import _, speaking
from storage.db import session

CACHE_SECONDS = 1.0
CACHE_ENTRIES = 2_000
THREADS = 4  # the page's own readers: a flood of misses cannot take the threads that chat commands run in
MAX_AGE = 30
_ID = re.compile(r"[A-Za-z0-9_-]{1,24}")  # what secrets.token_urlsafe gives: anything else is not looked up
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")  # characters XML 1.0 cannot carry at all
HTML_LANG = {"en": "en", "zh": "zh-Hans"}
MEDIA = {"html": "text/html; charset=utf-8", "json": "application/json", "atom": "application/atom+xml; charset=utf-8"}
_SECURITY = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"


def _xml_text(value: str) -> Markup:
    """Text for XML: escaped, a carriage return kept as a character reference (a parser would fold it), nothing XML forbids."""
    return Markup(str(escape(_NOT_XML.sub("", value))).replace("\r", "&#13;"))


@cache
def templates() -> Environment:
    """The page's templates, loaded when the first page is rendered (not when this module is imported)."""
    folder = FileSystemLoader(Path(__file__).parent / "templates")
    environment = Environment(loader=folder, autoescape=True, trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    environment.filters["xml"] = _xml_text
    return environment


@dataclass(frozen=True)
class Rendered:
    """One representation of a page, ready to send."""

    body: bytes
    etag: str
    last_modified: str
    media_type: str


@cache
def _locale(language: str) -> tuple[Locale, str]:
    locale = Locale.parse(BABEL_LOCALE[language])
    return locale, f"{locale.date_formats['long'].pattern} HH:mm"  # the long date, as in statements: '2 March 2026 09:00'


def _moment(config: Config, moment: datetime) -> str:
    """'2 March 2026 09:00 Beijing time' / '2026年3月2日 09:00 北京时间' in the team's timezone (never 'CST')."""
    zone = ZoneInfo(config.timezone)
    local = moment.astimezone(zone)
    locale, pattern = _locale(config.language)
    return f"{format_datetime(local, pattern, locale=locale)} {zone_name(zone, moment)}"


def _shown(config: Config, version: ShownVersion) -> dict:
    return {
        "version": version.version,
        "label": _("Version {n}").format(n=version.version),
        "headline": version.headline,
        "text": version.text,
        "approved": _moment(config, version.approved_at) if version.approved_at else "—",
        "approved_iso": version.approved_at.isoformat() if version.approved_at else "",
        "published": _moment(config, version.published_at),
        "published_iso": version.published_at.isoformat(),
    }


def _html(config: Config, page: PageData) -> str:
    labels = {
        "official": _("Official statement"),
        "approved": _("Approved at"),
        "published": _("Published at"),
        "next_update": _("Next update expected"),
        "earlier": _("Earlier versions"),
        "superseded": _("superseded"),
        "feed": _("Follow updates (Atom feed)"),
    }
    template = templates().get_template("statement_page.html.j2")
    return template.render(
        lang=HTML_LANG[config.language],
        title=page.headline,
        labels=labels,
        current=_shown(config, page.current),
        superseded=[_shown(config, v) for v in page.superseded],
        next_update=_moment(config, page.next_update_at) if page.next_update_at else None,
        next_update_iso=page.next_update_at.isoformat() if page.next_update_at else "",
        feed_href=f"{page.public_id}.atom",
        json_href=f"{page.public_id}.json",
    )


def _json(_config: Config, page: PageData) -> str:
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    def facts(v: ShownVersion) -> dict:
        return {
            "version": v.version,
            "headline": v.headline,
            "text": v.text,
            "approved_at": iso(v.approved_at),
            "published_at": iso(v.published_at),
        }

    current = facts(page.current)
    return json.dumps(
        {**current, "next_update_at": iso(page.next_update_at), "superseded": [facts(v) for v in page.superseded]},
        ensure_ascii=False,
    )


def _atom(config: Config, page: PageData) -> str:
    entries = [
        {
            "id": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'onevoice:{page.public_id}:v{v.version}')}",
            "title": _("{headline} (version {n})").format(headline=v.headline, n=v.version),
            "published": v.published_at.isoformat(),
            "text": v.text,
        }
        for v in (page.current, *page.superseded)
    ]
    template = templates().get_template("statement_page.atom.j2")
    return template.render(
        lang=HTML_LANG[config.language],
        feed_id=f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'onevoice:{page.public_id}')}",
        title=page.headline,
        author=_("Official statement"),
        updated=page.last_modified.isoformat(),
        entries=entries,
        self_href=f"{page.public_id}.atom",
        page_href=page.public_id,
    )


RENDERERS = {"html": _html, "json": _json, "atom": _atom}


def render(bot: OneVoice, public_id: str, kind: str) -> Rendered | None:
    """Read and render one representation (blocking: run it in a thread)."""
    with session(bot.engine) as db:
        page = page_for(db, bot.config, public_id)
    if page is None:
        return None
    with speaking(bot.config.language):
        body = RENDERERS[kind](bot.config, page).encode()
    etag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'  # strong: of these very bytes
    return Rendered(body, etag, http_date(page.last_modified, usegmt=True), MEDIA[kind])


class PageCache:
    """Rendered pages kept for a moment, keyed by (public id, format); concurrent misses for one key share one read."""

    def __init__(self, bot: OneVoice, seconds: float, threads: int):
        self.bot, self.seconds = bot, seconds
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="page")
        self.fresh: dict[tuple[str, str], tuple[float, Rendered]] = {}
        self.loading: dict[tuple[str, str], asyncio.Future] = {}

    async def get(self, public_id: str, kind: str) -> Rendered | None:
        if self.seconds <= 0:
            return await self._read(public_id, kind)
        key = (public_id, kind)
        hit = self.fresh.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        task = self.loading.get(key)
        if task is None:
            task = asyncio.ensure_future(self._read(public_id, kind))
            self.loading[key] = task
            task.add_done_callback(lambda done: self._settle(key, done))
        return await asyncio.shield(task)  # a client that goes away does not cancel the read for the others

    def _read(self, public_id: str, kind: str) -> asyncio.Future:
        return asyncio.get_running_loop().run_in_executor(self.pool, render, self.bot, public_id, kind)

    def _settle(self, key: tuple[str, str], task: asyncio.Future) -> None:
        self.loading.pop(key, None)
        if task.cancelled() or task.exception() is not None or task.result() is None:
            return  # only pages are kept: a 404 is one indexed lookup, and random ids must not fill the memory
        now = time.monotonic()
        if len(self.fresh) >= CACHE_ENTRIES:
            self.fresh = {k: v for k, v in self.fresh.items() if v[0] > now}
            if len(self.fresh) >= CACHE_ENTRIES:
                self.fresh.clear()
        self.fresh[key] = (now + self.seconds, task.result())


def _matches(if_none_match: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison: W/ prefixes are ignored; '*' matches any page that exists."""
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


def _not_found() -> Response:
    headers = {"Cache-Control": "no-store", **_SECURITY}
    return Response(_("Not found."), status_code=404, media_type="text/plain; charset=utf-8", headers=headers)


def page_routes(bot: OneVoice, cache_seconds: float = CACHE_SECONDS, threads: int = THREADS) -> list[Route]:
    """GET (and HEAD) /s/{public_id}, /s/{public_id}.json and /s/{public_id}.atom; cache_seconds=0 turns the cache off."""
    cache = PageCache(bot, cache_seconds, threads)

    def endpoint(kind: str):
        async def serve(request: Request) -> Response:
            public_id = request.path_params["public_id"]
            with speaking(bot.config.language):
                if not _ID.fullmatch(public_id):
                    return _not_found()
                page = await cache.get(public_id, kind)
                if page is None:
                    return _not_found()
            headers = {"ETag": page.etag, "Last-Modified": page.last_modified, "Cache-Control": f"public, max-age={MAX_AGE}", **_SECURITY}
            headers |= {"Content-Security-Policy": _CSP} if kind == "html" else {"Access-Control-Allow-Origin": "*"}
            if _matches(request.headers.get("if-none-match", ""), page.etag):
                return Response(status_code=304, headers=headers)
            return Response(page.body, media_type=page.media_type, headers=headers)

        return serve

    return [
        Route("/s/{public_id}.json", endpoint("json"), methods=["GET"], name="statement_page_json"),
        Route("/s/{public_id}.atom", endpoint("atom"), methods=["GET"], name="statement_page_atom"),
        Route("/s/{public_id}", endpoint("html"), methods=["GET"], name="statement_page"),
    ]
