"""Cost per command with 1 open incident vs 1,000 open + 10,000 closed + 200,000 timeline events.

Prints median and p99 per verb in each setting and their ratio (target: ≤ 1.3,
i.e. the cost of a command does not grow with history). Run: python bench/commands.py
"""

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import sync_handles  # noqa: E402
from config.load import load_config  # noqa: E402
from handlers.core.context import Deps  # noqa: E402
from handlers.core.ports import Command, FakeClock, RoomRef, UserRef  # noqa: E402
from handlers.router import dispatch  # noqa: E402
from storage.db import make_engine, session, upgrade  # noqa: E402
from storage.models import ChecklistItem, Incident, RoleAssignment, Room, TimelineEvent  # noqa: E402

VERBS = ("status", "note", "task", "done")


def seed_history(engine, clock: FakeClock, open_count: int, closed_count: int, events: int) -> None:
    """Bulk-insert incidents with rooms, roles and checklists, and a long timeline."""
    now = clock.now()
    incidents, rooms, roles, items, timeline = [], [], [], [], []
    total = open_count + closed_count
    for i in range(total):
        closed = i >= open_count
        incidents.append(
            dict(
                title=f"History {i}",
                slug=f"history-{i}",
                playbook="outage",
                severity="sev3",
                phase="closed" if closed else "responding",
                drill=False,
                declared_by="alice",
                declared_at=now - timedelta(days=30),
                phase_changed_at=now,
                last_task_number=10,
            )
        )
    with engine.begin() as connection:
        connection.execute(insert(Incident), incidents)
        ids = [row[0] for row in connection.exec_driver_sql("SELECT id FROM incident ORDER BY id")]
        for n, incident_id in enumerate(ids):
            rooms.append(dict(incident_id=incident_id, platform="console", name=f"crisis-h-{n}", external_id=f"crisis-h-{n}"))
            for role, person in (("commander", "alice"), ("comms", "carol"), ("legal", "bob")):
                ended = now if n >= open_count else None
                roles.append(dict(incident_id=incident_id, role=role, person=person, assigned_by="alice", assigned_at=now, ended_at=ended))
            for k in range(1, 11):
                items.append(
                    dict(
                        incident_id=incident_id,
                        number=k,
                        title=f"Item {k}",
                        phase="responding",
                        state="done" if k % 2 else "open",
                        due_at=now,
                    )
                )
        per_incident, extra = divmod(events, len(ids))
        for n, incident_id in enumerate(ids):
            for k in range(per_incident + (1 if n < extra else 0)):
                timeline.append(dict(incident_id=incident_id, at=now, actor="alice", kind="note", text=f"Event {k}", data={}))
        for table, rows in ((Room, rooms), (RoleAssignment, roles), (ChecklistItem, items), (TimelineEvent, timeline)):
            for start in range(0, len(rows), 20000):
                connection.execute(insert(table), rows[start : start + 20000])


def measure(engine, deps: Deps, room: str, runs: int, first_item: int) -> dict[str, list[float]]:
    """Time each verb `runs` times on one incident room; `done` closes the item `task` just added."""
    timings: dict[str, list[float]] = {verb: [] for verb in VERBS}
    user = UserRef("console", "alice")
    for i in range(runs):
        for verb in VERBS:
            text = {
                "status": "status",
                "note": f"note Observation {i}",
                "task": f"task Follow up {i} in 30m",
                "done": f"done {first_item + i}",
            }[verb]
            started = time.perf_counter()
            with session(engine) as db:
                reply = dispatch(db, deps, Command(user, text, RoomRef("console", room)))
            timings[verb].append(time.perf_counter() - started)
            assert reply.ok, (verb, reply.message.plain())
    return timings


def run_setting(folder: Path, name: str, history: tuple[int, int, int], runs: int) -> dict[str, list[float]]:
    """Declare one incident on a database with the given history, then time the verbs on it."""
    engine = make_engine(f"sqlite:///{folder / (name + '.db')}")
    upgrade(engine)
    config = load_config(None)
    clock = FakeClock()
    sync_handles(engine, config, "console")
    open_count, closed_count, events = history
    if open_count or closed_count:
        seed_history(engine, clock, open_count, closed_count, events)
    deps = Deps(config, clock, ["console"])
    with session(engine) as db:
        reply = dispatch(
            db, deps, Command(UserRef("console", "alice"), "declare outage sev2 Checkout failing", RoomRef("console", "lobby"))
        )
    with session(engine) as db:
        room = db.get(Incident, reply.incident_id)
        name_of_room = f"crisis-x-{room.id}"
        db.exec(Room.__table__.update().where(Room.incident_id == room.id).values(external_id=name_of_room))
        db.commit()
    checklist = len(config.playbooks["outage"].checklist)
    measure(engine, deps, name_of_room, 20, checklist + 1)  # warm caches and the translation catalog
    return measure(engine, deps, name_of_room, runs, checklist + 21)


def p99(values: list[float]) -> float:
    """The 99th percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


def main() -> int:
    """Run both settings and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        small = run_setting(folder, "small", (0, 0, 0), args.runs)
        started = time.perf_counter()
        large = run_setting(folder, "large", (1000, 10000, 200000), args.runs)
        print(f"(seeded 1,000 open + 10,000 closed incidents and 200,000 timeline events; {time.perf_counter() - started:.0f}s in all)")
    print(f"{'verb':8} {'1 open: median':>15} {'p99':>9} {'1,000 open: median':>19} {'p99':>9} {'ratio (median)':>15} {'ratio (p99)':>12}")
    worst = 0.0
    for verb in VERBS:
        a, b = statistics.median(small[verb]), statistics.median(large[verb])
        pa, pb = p99(small[verb]), p99(large[verb])
        worst = max(worst, b / a)
        print(f"{verb:8} {a * 1000:13.2f}ms {pa * 1000:7.2f}ms {b * 1000:17.2f}ms {pb * 1000:7.2f}ms {b / a:15.2f} {pb / pa:12.2f}")
    print(f"worst median ratio: {worst:.2f} (target ≤ 1.3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
