"""The update-cadence figure counts, as missed, every deadline the bot itself reminded about (issue 21)."""

from datetime import timedelta

from handlers.review import report
from storage.db import session


def _late_reminders(chat) -> list[str]:
    return [message.plain() for _to, message in chat.fire() if "status update promised" in message.plain()]


def test_an_update_missed_before_resolve_is_a_missed_window(chat, clock):
    start = clock.now()
    _incident, room = chat.declare()  # sev2: updates every 60 min
    clock._now = start + timedelta(minutes=20)
    assert chat.say("alice", "update Lot isolated", room).ok  # the next one is promised for +80
    clock._now = start + timedelta(minutes=80)
    assert _late_reminders(chat)  # the bot says the update is late...
    clock._now = start + timedelta(minutes=100)
    assert chat.say("alice", "resolve Recall under way", room).ok  # ...and none came before resolve
    summary = chat.say("bob", "review", room).message.plain()
    assert "1 of 2 windows of 1 hr (50 %)" in summary  # not 100 %: the window the bot reminded about was missed


def test_every_reminder_of_a_late_update_is_one_missed_window(chat, clock):
    start = clock.now()
    _incident, room = chat.declare()
    reminded = 0
    for minute in (60, 120, 180):  # no update at all: the reminder repeats at the cadence
        clock._now = start + timedelta(minutes=minute)
        reminded += len(_late_reminders(chat)) > 0
    clock._now = start + timedelta(minutes=190)
    assert chat.say("alice", "update Still checking", room).ok  # late, but within the window opened at +180
    clock._now = start + timedelta(minutes=200)
    with session(chat.engine) as db:
        figures = report.gather(db, chat.config, 1, clock.now()).metrics
    assert reminded == 3
    assert (figures.cadence_windows, figures.cadence_kept) == (reminded + 1, 1)
    assert figures.missed_updates == [start + timedelta(minutes=m) for m in (60, 120, 180)]


def test_an_update_at_its_deadline_is_on_time(chat, clock):
    start = clock.now()
    _incident, room = chat.declare()
    clock._now = start + timedelta(minutes=60)
    assert chat.say("alice", "update On the minute", room).ok
    clock._now = start + timedelta(minutes=61)
    with session(chat.engine) as db:
        figures = report.gather(db, chat.config, 1, clock.now()).metrics
    assert (figures.cadence_windows, figures.cadence_kept, figures.missed_updates) == (1, 1, [])


def test_a_burst_of_updates_keeps_one_window_and_the_silence_after_it_is_missed(chat, clock):
    start = clock.now()
    _incident, room = chat.declare()  # sev2: updates every 60 min
    for minute in range(1, 6):  # five updates in five minutes, then four silent hours
        clock._now = start + timedelta(minutes=minute)
        assert chat.say("alice", f"update Checking lot {minute}", room).ok
    clock._now = start + timedelta(minutes=250)  # the deadlines at +65, +125, +185 and +245 passed with no update
    with session(chat.engine) as db:
        figures = report.gather(db, chat.config, 1, clock.now()).metrics
    assert (figures.cadence_windows, figures.cadence_kept) == (5, 1)  # not 8 windows and 5 kept (63 %)
