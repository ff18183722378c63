"""The page's address (PRODUCT.md §4): the room is told it at the first publication to the page, and that very address,
taken from what the console printed, opens the page over HTTP from a running listener — with the public headline and
never the internal incident title (a distinctive one, as a leaked signal's title would be)."""

import asyncio
import json
import re
import socket
import xml.etree.ElementTree as ET

import aiohttp
import uvicorn
from starlette.applications import Starlette

from bot.app import OneVoice
from bot.web.page import page_routes
from config.load import load_config
from config.settings import Settings
from tests.e2e.conftest import Onevoice

ATOM = "{http://www.w3.org/2005/Atom}"
SECRET = "LEAKED-SIGNAL Weibo rumour PB20 explodes"
HEADLINE = "Power bank lots 2 and 3 taken off sale"
TEXT = "We are sorry for the worry. Lots 2 and 3 are off sale while we check them. Next update at 11:00 on our website."
SCRIPT = [
    f"/crisis declare product-quality sev2 {SECRET}",
    ":as carol",
    f"/crisis #1 draft {HEADLINE} | {TEXT}",
    ":as bob",
    "/crisis #1 approve",
    ":as alice",
    "/crisis #1 approve",
    ":as carol",
    "/crisis #1 publish website",
    ":as erin",
    "/crisis #1 line",
    ":as carol",
    "/crisis #1 published",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def fetch_all(onevoice: Onevoice, port: int, address: str) -> dict[str, tuple[int, str]]:
    """Serve the bot's pages on the port the public address names, and GET the address as HTML, JSON and Atom."""
    settings = Settings(ONEVOICE_DATABASE_URL=onevoice.env["ONEVOICE_DATABASE_URL"], ONEVOICE_PUBLIC_URL=f"http://127.0.0.1:{port}")
    bot = OneVoice(settings, config=load_config(onevoice.config), migrate=False)
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=page_routes(bot)), host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        got = {}
        async with aiohttp.ClientSession() as http:
            for suffix in ("", ".json", ".atom"):
                async with http.get(address + suffix) as response:
                    got[suffix] = (response.status, await response.text())
        return got
    finally:
        server.should_exit = True
        await serving
        bot.engine.dispose()


async def test_the_address_the_room_is_told_opens_the_page_with_the_headline_and_never_the_title(onevoice):
    port = free_port()
    onevoice.env["ONEVOICE_PUBLIC_URL"] = f"http://127.0.0.1:{port}/"  # a trailing slash as people write it
    out = await asyncio.to_thread(onevoice.type_in, "\n".join(SCRIPT) + "\n")
    told = re.search(r"The public page of #1 is at (http://127\.0\.0\.1:\d+/s/[A-Za-z0-9_-]+) ", out)
    assert told, out
    address = told.group(1)
    assert out.count(address) >= 3  # told at publication, then shown by `line` and `published`
    after_line, after_published = out.split("#1 line", 1)[1], out.split("/crisis #1 published", 1)[1]
    assert f"Public page: {address}" in after_line and f"Public page: {address}" in after_published

    got = await fetch_all(onevoice, port, address)
    assert {status for status, _body in got.values()} == {200}
    assert all(SECRET not in body and "PB20" not in body for _status, body in got.values())  # the title never leaves the team
    assert f"<h1>{HEADLINE}</h1>" in got[""][1] and f"<title>{HEADLINE} ·" in got[""][1]
    page = json.loads(got[".json"][1])
    assert (page["headline"], page["text"]) == (HEADLINE, TEXT)
    feed = ET.fromstring(got[".atom"][1])
    assert feed.find(f"{ATOM}title").text == HEADLINE and feed.find(f"{ATOM}entry/{ATOM}title").text == f"{HEADLINE} (version 1)"


def test_without_a_public_address_the_room_is_told_the_page_exists_and_how_to_give_it_one(onevoice):
    onevoice.env.pop("ONEVOICE_PUBLIC_URL", None)
    out = onevoice.type_in("\n".join(SCRIPT) + "\n")
    assert "#1 has a public page but no public address: set ONEVOICE_PUBLIC_URL" in out
    assert "website: sent" in out and "no public address" in out.split("#1 line", 1)[1]
    assert "/s/" not in out  # no half address to guess from
