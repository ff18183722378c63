"""Rounds of SIGKILL at intake, for tests/e2e/test_intake_crash.py (10 a path) and bench/intake.py (200).

Two `onevoice run` replicas on PostgreSQL behind the fake Slack. A round sends one signed request to one replica — a
click on an overdue-item reminder's Done button by the item's owner, or a slash command adding a checklist item — and
SIGKILLs that replica at a random moment from when the request leaves until a few milliseconds after a typical answer;
it is restarted while the next round goes to the other one. In the end a person looks, as anyone on Slack would:
`/crisis #N tasks all` lists every item added (once) and shows every item clicked done, and each owner's DM shows the
answer to their click. A request answered 200 must have its effect (lost: must be 0); one that got no 200 may have it or
not (committed, then killed before answering: Slack showed the user a failure).

Each clicked item is the only one of its own incident, which its owner declared (so the owner may check it off), and
each reminder and answer goes to that owner's DM: the bot paces its posts to one channel at one a second, and fourteen
reminders in Alice's DM were 14 s of waiting, longer still behind a lease a killed replica left on one of them. The
clicks come first: a click whose replica died holding its answer leaves it to the other replica once the lease and the
takeover delay have passed (bot/outbox/leases.py), which the slash rounds then overlap instead of the end of the run
waiting for it.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import aiohttp
from sqlalchemy import update

from storage.db import session
from storage.models import Incident
from tests.e2e.replicas import GENERAL, Replicas, backlog, people, seed_overdue, team_config
from tests.e2e.slack_process import button_labelled
from tests.fakes.slack_api import unescape

SLASH, BUTTON = "slash", "button"
ADDED = re.compile(r"Intake-(\d{4})")
CHANGED = re.compile(r"changed item 1:")  # each clicked item is item 1 of its incident
WARM_UPS = 4  # requests of each path first, unharmed, to time a typical answer
SLACK_DEADLINE = 3.0  # seconds Slack waits for an answer


@dataclass
class Tally:
    """What the rounds of one path did, by round number."""

    path: str
    acknowledged: list[int] = field(default_factory=list)
    unacknowledged: list[int] = field(default_factory=list)
    lost: list[int] = field(default_factory=list)  # answered 200, yet its effect is nowhere
    doubled: list[int] = field(default_factory=list)  # its effect twice
    landed_unacknowledged: list[int] = field(default_factory=list)  # no 200, but it took effect before the kill
    unanswered: list[int] = field(default_factory=list)  # a click answered 200 whose answer never reached the user
    answered_twice: list[int] = field(default_factory=list)  # at-least-once delivery: a replica killed mid-call

    def line(self) -> str:
        return (
            f"{self.path:6}: {len(self.acknowledged) + len(self.unacknowledged)} rounds, {len(self.acknowledged)} acknowledged, "
            f"{len(self.lost)} lost, {len(self.doubled)} doubled; {len(self.unacknowledged)} not acknowledged "
            f"({len(self.landed_unacknowledged)} of them took effect all the same)"
            + (f"; answers: {len(self.unanswered)} missing, {len(self.answered_twice)} twice" if self.path == BUTTON else "")
        )


def intake_team(folder, rounds: int):
    """The team file: the starter team plus one person per clicked item (the warm-ups' included), its owner."""
    return team_config(folder, rounds + WARM_UPS)


def slack_id(person: str) -> str:
    """The Slack user id team_config gives person p000, p001, …"""
    return f"U0P{person[1:]}"


class IntakeRig:
    """The two replicas, the incidents the rounds act on, and the kill loop."""

    def __init__(self, replicas: Replicas, engine, seed: int = 14):
        self.replicas, self.engine, self.rng = replicas, engine, random.Random(seed)
        self.restarting: dict[int, asyncio.Task] = {}
        self.victim = 0
        self.window = {SLASH: 0.05, BUTTON: 0.05}
        self.latencies: dict[str, list[float]] = {SLASH: [], BUTTON: []}
        self.seconds: dict[str, float] = {}  # how long each part of the run took
        self.windows: dict[str, list[float]] = {SLASH: [], BUTTON: []}
        self.restarts: list[tuple[float, float]] = []  # (seconds to boot, seconds to answer a first request)

    async def prepare(self, buttons: int) -> None:
        """An incident to add items to; `buttons` more (and the warm-ups'), each with one overdue item owned by the
        person of intake_team who declared it, whose reminder (with Done) goes to that person's DM."""
        due = datetime.now(UTC) - timedelta(minutes=5)
        self.added_to = seed_overdue(self.engine, 0, ["alice"], due, "s-")
        self.reminders_due = buttons + WARM_UPS
        self.owners = people(self.reminders_due)
        self.clicked_in = {}  # clicked item k (1…): its incident
        for k, owner in enumerate(self.owners, 1):
            self.clicked_in[k] = seed_overdue(self.engine, 1, [owner], due, f"b{k}-")
            with session(self.engine) as db:
                db.exec(update(Incident).where(Incident.id == self.clicked_in[k]).values(declared_by=owner))
                db.commit()
        for index in (0, 1):
            assert await self.replicas.post(index, *self.replicas.slash("help")) == 200  # warm, and work arrived: fire what is due

    async def time_answers(self, path: str) -> None:
        """A few unharmed requests of the path: the kill window starts at twice their median answer time."""
        await self.back_up()  # the last path's victims: unharmed means sent to a replica that is up
        if path == BUTTON:
            await self._until(lambda: len(self._reminders()) == self.reminders_due, 60, "every reminder in its owner's DM")
        for n in range(WARM_UPS):
            started = time.monotonic()
            status = await self._send(n % 2, self._request(path, -1 - n))
            assert status == 200, f"unharmed {path} request {n + 1} answered {status} (None: no answer within {SLACK_DEADLINE * 2:.0f} s)"
            self.latencies[path].append(time.monotonic() - started)
        typical = sorted(self.latencies[path])[len(self.latencies[path]) // 2]
        self.window[path] = 2 * typical + 0.005

    async def round(self, number: int, path: str, tally: Tally) -> None:
        """One request to one replica, which is SIGKILLed at a random moment around its answer and then restarted."""
        victim, self.victim = self.victim, 1 - self.victim
        if victim in self.restarting:
            await self.restarting.pop(victim)
        sending = asyncio.create_task(self._send(victim, self._request(path, number)))
        await asyncio.sleep(self.rng.uniform(0, self.window[path]))
        self.replicas.kill(victim)
        status = await sending
        (tally.acknowledged if status == 200 else tally.unacknowledged).append(number)
        # a staircase keeps about half the kills before the answer and half after, however slow a restarted replica is
        self.window[path] *= 0.8 if status == 200 else 1.25
        self.windows[path].append(self.window[path])
        self.restarting[victim] = asyncio.create_task(self._restart(victim))

    async def _restart(self, index: int) -> None:
        """Start the killed replica again and let it serve one request (its first one is slower: connections, auth.test)."""
        started = time.monotonic()
        await self.replicas.start_one(index)
        booted = time.monotonic()
        deadline = booted + 60
        while await self._send(index, self.replicas.slash("help")) != 200:  # a busy machine can make a first answer slow
            assert time.monotonic() < deadline, f"replica {index} never answered after its restart"
        self.restarts.append((booted - started, time.monotonic() - booted))

    async def back_up(self) -> None:
        """Both replicas up again, once restarted and answering."""
        for index in list(self.restarting):
            await self.restarting.pop(index)

    async def settle(self, timeout: float = 90) -> None:
        """Both replicas back and every effect delivered (answers included)."""
        await self.back_up()
        await self._until(lambda: backlog(self.engine)[1] == 0, timeout, "the outbox drained")

    async def judge(self, slash: Tally, button: Tally) -> None:
        """Look as a user would: the checklists as `/crisis tasks all` shows them, and the answers each clicker was sent."""
        added = Counter(int(n) for n in ADDED.findall(await self._ask_tasks(self.added_to)))
        clicked = {k: await self._ask_tasks(self.clicked_in[k]) for k in map(clicked_item, button.acknowledged + button.unacknowledged)}
        answers = {  # in each owner's DM, the answers to their own click
            k: sum(len(CHANGED.findall(unescape(m.get("text") or ""))) for m in self.replicas.fake.messages_in(self._owner(k)))
            for k in self.clicked_in
        }
        done = lambda n: f"☑ `1` Task b{clicked_item(n)}-1 " in clicked[clicked_item(n)]  # noqa: E731
        for tally, seen in ((slash, lambda n: added[n]), (button, done)):
            tally.lost = [n for n in tally.acknowledged if not seen(n)]
            tally.landed_unacknowledged = [n for n in tally.unacknowledged if seen(n)]
        slash.doubled = [n for n, times in added.items() if times > 1]  # an item is done or not: a click cannot double
        rounds = button.acknowledged + button.unacknowledged
        button.unanswered = [n for n in button.acknowledged if not answers[clicked_item(n)]]
        button.answered_twice = [n for n in rounds if answers[clicked_item(n)] > 1]

    # ---- the requests

    def _request(self, path: str, number: int) -> tuple[bytes, dict]:
        if path == SLASH:
            title = f"Intake-{number:04d}" if number >= 0 else f"Warm-up {-number}"
            return self.replicas.slash(f"#{self.added_to} task {title}")
        k = clicked_item(number) if number >= 0 else -number  # warm-ups: items 1-4
        message, button = self._reminders()[k]
        owner, fake = self._owner(k), self.replicas.fake
        return fake.block_action(owner, fake.ims[owner], button["action_id"], button["value"], message_ts=message["ts"])

    def _owner(self, k: int) -> str:
        """The Slack id of the owner (and declarer) of clicked item k."""
        return slack_id(self.owners[k - 1])

    def _reminders(self) -> dict[int, tuple[dict, dict]]:
        """The reminders of the clicked items in their owners' DMs, by k: (message, its Done button)."""
        found = {}
        for k, incident in self.clicked_in.items():
            for message in self.replicas.fake.messages_in(self._owner(k)):
                pair = button_labelled([message], "Done") if f"“Task b{k}-1”" in unescape(message.get("text") or "") else None
                if pair and f"#{incident} done" in pair[1]["value"]:
                    found.setdefault(k, pair)
        return found

    async def _send(self, index: int, request: tuple[bytes, dict]) -> int | None:
        try:
            return await asyncio.wait_for(self.replicas.post(index, *request), SLACK_DEADLINE * 2)
        except (TimeoutError, aiohttp.ClientError):
            return None  # killed before it answered: Slack shows the user that the command failed

    async def _ask_tasks(self, incident: int) -> str:
        """Alice types `/crisis #N tasks all` in #general; what Slack shows her."""
        before = len(self.replicas.fake.messages)
        assert await self._send(0, self.replicas.slash(f"#{incident} tasks all")) == 200
        shown = [m for m in self.replicas.fake.messages[before:] if m["channel"] == GENERAL and "Checklist of" in (m.get("text") or "")]
        assert shown, "no checklist shown"
        return unescape(shown[-1]["text"])

    async def _until(self, condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
            await asyncio.sleep(0.05)


def clicked_item(number: int) -> int:
    """The clicked item k whose Done button round `number` clicks (1-4 are the warm-ups')."""
    return number + WARM_UPS + 1


async def run_intake_rounds(replicas: Replicas, engine, rounds: int, seed: int = 14) -> tuple[Tally, Tally, IntakeRig]:
    """`rounds` rounds of each path (button clicks first, then slash commands), judged at the end."""
    rig = IntakeRig(replicas, engine, seed)
    started = time.monotonic()
    await rig.prepare(rounds)
    rig.seconds["prepare"] = time.monotonic() - started
    slash, button = Tally(SLASH), Tally(BUTTON)
    for path, tally in ((BUTTON, button), (SLASH, slash)):
        started = time.monotonic()
        await rig.time_answers(path)
        for number in range(rounds):
            await rig.round(number, path, tally)
        rig.seconds[path] = time.monotonic() - started
    started = time.monotonic()
    await rig.settle()
    await rig.judge(slash, button)
    rig.seconds["settle and judge"] = time.monotonic() - started
    return slash, button, rig
