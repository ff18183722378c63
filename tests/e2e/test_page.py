"""The public statement page over real HTTP: uvicorn on loopback, the team driving the line as in chat.

Incident #1 is product-quality sev2 declared by alice; carol drafts, bob (legal) then alice (commander) approve,
carol publishes. The starter config has the page target `website`.
"""

import asyncio
import html
import json
import re
import secrets
import time
import xml.etree.ElementTree as ET
from datetime import timedelta

import aiohttp
import pytest
import uvicorn
from multidict import CIMultiDict
from starlette.applications import Starlette

from bot.app import OneVoice
from bot.web.page import CACHE_SECONDS, page_routes
from config.settings import Settings
from handlers.line.page import page_for
from handlers.text.i18n import _, speaking
from storage.db import session
from storage.models import Incident
from tests.conftest import Chat

ATOM = "{http://www.w3.org/2005/Atom}"
V1 = 'We are sorry 🙏 for the worry: <b>lots 2 & 3</b> are off sale while we check them.\n我们深表歉意。 "Next update" at 11:00 CST.'
V2 = "We are sorry 🙏: lots 2 & 3 are recalled, <i>free</i> replacement.\n我们深表歉意。 Next update at 12:00 CST."


def texts(page_html: str) -> list[str]:
    """The statements on an HTML page, newest first, as a browser reads them."""
    return [html.unescape(escaped) for escaped in re.findall(r'<p class="text">(.*?)</p>', page_html, re.DOTALL)]


class Site:
    """The bot's page routes served by uvicorn on a free loopback port, and a chat on the same database."""

    def __init__(self, bot: OneVoice, chat: Chat):
        self.bot, self.chat = bot, chat
        self.server = uvicorn.Server(
            uvicorn.Config(Starlette(routes=page_routes(bot)), host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        )
        self.url = ""
        self.http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> "Site":
        self.serving = asyncio.create_task(self.server.serve())
        while not self.server.started:
            await asyncio.sleep(0.01)
        self.url = f"http://127.0.0.1:{self.server.servers[0].sockets[0].getsockname()[1]}"
        self.http = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *_exc) -> None:
        await self.http.close()
        self.server.should_exit = True
        await self.serving
        self.bot.engine.dispose()

    async def get(self, path: str, **headers: str) -> tuple[int, CIMultiDict, bytes]:
        async with self.http.get(self.url + path, headers=headers) as response:
            return response.status, response.headers.copy(), await response.read()

    async def until(self, path: str, check) -> bytes:
        """The body of path once check(body) holds: the page cache keeps a rendering for CACHE_SECONDS."""
        deadline = time.monotonic() + CACHE_SECONDS + 3
        while True:
            status, _headers, body = await self.get(path)
            if status == 200 and check(body) or time.monotonic() > deadline:
                return body
            await asyncio.sleep(0.1)

    def say(self, who: str, line: str, room: str) -> None:
        reply = self.chat.say(who, line, room)
        assert reply.ok, reply.message.plain()

    def line(self, room: str, text: str) -> None:
        """carol drafts, bob then alice approve (a minute apart each)."""
        self.say("carol", f"draft {text}", room)
        for approver in ("bob", "alice"):
            self.chat.clock.advance(timedelta(minutes=1))
            self.say(approver, "approve", room)

    def public_id(self, incident_id: int = 1) -> str | None:
        with session(self.bot.engine) as db:
            return db.get(Incident, incident_id).public_id


@pytest.fixture
async def site(tmp_path, config, clock):
    bot = OneVoice(Settings(ONEVOICE_DATABASE_URL=f"sqlite:///{tmp_path / 'page.db'}"), config=config, clock=clock)
    async with Site(bot, Chat(bot.engine, config, clock)) as running:
        yield running


async def test_no_page_before_publishing_there_and_unknown_ids_look_the_same(site):
    _id, room = site.chat.declare()
    site.line(room, V1)
    site.say("carol", "publish newsroom", room)
    assert site.public_id() is None  # approved and published, but not to the page: it does not exist yet
    unknown = {}
    odd = ("/s/a.b", "/s/%E4%B8%AD%E6%96%87", "/s/" + "a" * 300)
    for path in (f"/s/{secrets.token_urlsafe(9)}", "/s/aaaaaaaaaaaa.json", "/s/aaaaaaaaaaaa.atom", *odd):
        status, headers, unknown[path] = await site.get(path)
        assert status == 404 and headers["Cache-Control"] == "no-store"
    assert set(unknown.values()) == {b"Not found."}
    site.say("carol", "publish website", room)
    public_id = site.public_id()
    assert public_id and len(public_id) >= 12
    status, _headers, body = await site.get(f"/s/{public_id}")
    assert status == 200 and b"Not found." not in body


async def test_html_json_and_atom_carry_the_exact_approved_text(site):
    _id, room = site.chat.declare()
    site.line(room, V1)
    approved_at = site.chat.clock.now()
    site.chat.clock.advance(timedelta(minutes=3))
    site.say("carol", "publish", room)
    public_id = site.public_id()

    status, headers, body = await site.get(f"/s/{public_id}.json")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    page = json.loads(body.decode("utf-8"))
    assert page["text"] == V1 and page["version"] == 1 and page["headline"] == "Statement from Acme" and "title" not in page
    assert page["approved_at"] == approved_at.isoformat()
    assert page["published_at"] == (approved_at + timedelta(minutes=3)).isoformat()
    assert page["next_update_at"] and page["superseded"] == []

    status, headers, body = await site.get(f"/s/{public_id}.atom")
    assert status == 200 and headers["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(body)
    assert feed.tag == f"{ATOM}feed" and feed.find(f"{ATOM}id").text.startswith("urn:uuid:") and feed.find(f"{ATOM}updated").text
    [entry] = feed.findall(f"{ATOM}entry")
    content = entry.find(f"{ATOM}content")
    assert content.get("type") == "text" and content.text == V1

    status, headers, body = await site.get(f"/s/{public_id}")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    page_html = body.decode("utf-8")
    assert '<html lang="en">' in page_html and '<meta name="viewport"' in page_html
    assert f'<link rel="alternate" type="application/atom+xml" href="{public_id}.atom"' in page_html
    assert texts(page_html) == [V1] and "<b>" not in page_html and "<i>" not in page_html  # escaped, never markup
    assert "http://" not in page_html and "https://" not in page_html  # no external assets
    assert "Approved at" in page_html and "Next update expected" in page_html
    assert "09:02 Beijing time" in page_html and " CST<" not in page_html  # China or US Central? never the bare zone
    assert headers["Cache-Control"] == "public, max-age=30" and headers["Last-Modified"] == "Mon, 02 Mar 2026 01:05:00 GMT"
    assert headers["ETag"].startswith('"') and not headers["ETag"].startswith("W/")  # strong


async def test_a_new_version_replaces_the_line_and_the_old_one_is_listed_as_superseded(site):
    _id, room = site.chat.declare()
    site.line(room, V1)
    v1_approved = site.chat.clock.now()
    site.say("carol", "publish website", room)
    public_id = site.public_id()
    site.chat.clock.advance(timedelta(minutes=30))
    site.line(room, V2)
    with session(site.bot.engine) as db:  # approved but not yet published there: the page still says v1
        assert page_for(db, site.bot.config, public_id).current.version == 1
    site.chat.clock.advance(timedelta(minutes=1))
    site.say("carol", "publish website", room)
    assert site.public_id() == public_id  # the same page, for the whole incident

    page = json.loads(await site.until(f"/s/{public_id}.json", lambda body: json.loads(body)["version"] == 2))
    assert page["version"] == 2 and page["text"] == V2
    assert page["superseded"] == [
        {
            "version": 1,
            "headline": "Statement from Acme",
            "text": V1,
            "approved_at": v1_approved.isoformat(),  # when it was approved, not when it was superseded
            "published_at": v1_approved.isoformat(),
        }
    ]
    feed = ET.fromstring(await site.until(f"/s/{public_id}.atom", lambda body: b"Version 2" in body))
    assert [e.find(f"{ATOM}content").text for e in feed.findall(f"{ATOM}entry")] == [V2, V1]  # newest first
    page_html = (await site.until(f"/s/{public_id}", lambda body: b"Version 2" in body)).decode()
    assert texts(page_html) == [V2, V1]
    current, earlier = page_html.split("Earlier versions")
    assert "Version 2" in current and "Version 1" in earlier and "superseded" in earlier


async def test_if_none_match_with_the_etag_gives_304_without_a_body(site):
    _id, room = site.chat.declare()
    site.line(room, V1)
    site.say("carol", "publish website", room)
    public_id = site.public_id()
    etags = {}
    for suffix in ("", ".json", ".atom"):
        path = f"/s/{public_id}{suffix}"
        _status, headers, _body = await site.get(path)
        etag = etags[suffix] = headers["ETag"]
        async with site.http.head(site.url + path) as head:
            assert (head.status, head.headers["ETag"], await head.read()) == (200, etag, b"")
        for given in (etag, f"W/{etag}", f'"other", {etag}', "*"):
            status, again, body = await site.get(path, **{"If-None-Match": given})
            assert (status, body, again["ETag"], again["Cache-Control"]) == (304, b"", etag, "public, max-age=30")
        status, _headers, body = await site.get(path, **{"If-None-Match": '"stale"'})
        assert status == 200 and body
    assert len(set(etags.values())) == 3  # one per representation
    site.chat.clock.advance(timedelta(minutes=10))
    site.line(room, V2)
    site.say("carol", "publish website", room)
    await site.until(f"/s/{public_id}", lambda body: b"Version 2" in body)
    status, headers, _body = await site.get(f"/s/{public_id}", **{"If-None-Match": etags[""]})
    assert status == 200 and headers["ETag"] != etags[""]  # a new version is a new ETag


async def test_a_drill_has_no_page(site):
    incident_id, room = site.chat.declare()
    with session(site.bot.engine) as db:
        incident = db.get(Incident, incident_id)
        incident.drill = True
        db.add(incident)
        db.commit()
    site.line(room, V1)
    site.say("carol", "publish", room)
    assert site.public_id(incident_id) is None  # rehearsed only
    with session(site.bot.engine) as db:  # even a drill given an id by mistake shows nothing
        incident = db.get(Incident, incident_id)
        incident.public_id = "drillpage123"
        db.add(incident)
        db.commit()
    for suffix in ("", ".json", ".atom"):
        status, _headers, body = await site.get(f"/s/drillpage123{suffix}")
        assert (status, body) == (404, b"Not found.")


async def test_the_page_speaks_chinese_when_the_team_does(tmp_path, config, clock):
    zh = config.model_copy(update={"language": "zh"})
    bot = OneVoice(Settings(ONEVOICE_DATABASE_URL=f"sqlite:///{tmp_path / 'zh.db'}"), config=zh, clock=clock)
    async with Site(bot, Chat(bot.engine, zh, clock)) as site:
        _id, room = site.chat.declare()
        site.line(room, V1)
        site.say("carol", "publish website", room)
        site.chat.clock.advance(timedelta(minutes=5))
        site.line(room, V2)
        site.say("carol", "publish website", room)
        _status, _headers, body = await site.get(f"/s/{site.public_id()}")
        page_html = body.decode()
        assert '<html lang="zh-Hans">' in page_html
        assert "2026年3月2日" in page_html and "已取代" in page_html  # Chinese dates; "superseded" as the team reads it
        assert "北京时间" in page_html  # the zone as the team says it
        with speaking("zh"):
            labels = [_("Official statement"), _("Approved at"), _("Published at"), _("Next update expected"), _("Earlier versions")]
        assert all(label in page_html for label in labels)  # each label through the Chinese catalog
        assert texts(page_html) == [V2, V1]
        _status, _headers, feed = await site.get(f"/s/{site.public_id()}.atom")
        assert b'xml:lang="zh-Hans"' in feed and ET.fromstring(feed).find(f"{ATOM}entry/{ATOM}content").text == V2


def test_the_page_reads_the_same_on_every_database_and_only_with_a_page_target(any_engine, config, clock):
    chat = Chat(any_engine, config, clock)
    _id, room = chat.declare()
    approved = []
    for text in (V1, V2):
        assert chat.say("carol", f"draft {text}", room).ok
        clock.advance(timedelta(minutes=1))
        assert chat.say("bob", "approve", room).ok and chat.say("alice", "approve", room).ok
        approved.append(clock.now())
        clock.advance(timedelta(minutes=2))
        assert chat.say("carol", "publish website", room).ok
    with session(any_engine) as db:
        public_id = db.get(Incident, 1).public_id
        page = page_for(db, config, public_id)
        assert (page.headline, page.current.version, page.current.text, page.current.approved_at) == (
            "Statement from Acme",
            2,
            V2,
            approved[1],
        )
        [old] = page.superseded
        assert (old.version, old.text, old.approved_at, old.published_at) == (1, V1, approved[0], approved[0] + timedelta(minutes=2))
        assert page.last_modified == page.current.published_at and len(page.stamp) == 32
        assert page_for(db, config, public_id + "x") is None
        no_page = config.model_copy(update={"broadcast": [t for t in config.broadcast if not t.page]})
        assert page_for(db, no_page, public_id) is None  # the page target removed from the config: the page is taken down


async def test_a_headline_with_markup_stays_text_on_the_page_the_json_and_the_feed(site):
    headline = 'Recall <b>lots 2 & 3</b> "now" 🙏\u00a0召回'
    _id, room = site.chat.declare()
    site.line(room, f"{headline} | {V1}")
    site.say("carol", "publish website", room)
    public_id = site.public_id()
    _status, _headers, body = await site.get(f"/s/{public_id}")
    page_html = body.decode()
    assert "<b>" not in page_html and f"<h1>{html.escape(headline, quote=False)}</h1>" in page_html.replace("&#34;", '"')
    _status, _headers, body = await site.get(f"/s/{public_id}.json")
    assert json.loads(body)["headline"] == headline
    _status, _headers, body = await site.get(f"/s/{public_id}.atom")
    assert ET.fromstring(body).find(f"{ATOM}title").text == headline
