"""Hypothesis strategies for command text: the real grammar (verbs, aliases, roles, playbooks, mentions, numbers,
durations) mixed with the odd unicode users paste, and plain random text."""

from functools import cache

from hypothesis import strategies as st

from config.model import PHASES, SEVERITIES, TEMPLATE_KINDS
from handlers import router  # noqa: F401  (registers every verb)
from handlers.catalog import registry

ODD = [
    "电池安全",
    "无可奉告",
    "可能",
    "😀",
    "👨‍👩‍👧",
    "🇨🇳",
    "\u202e",  # right-to-left override
    "\u2066",
    "\u200b",  # zero width space
    "\u200d",
    "\ufeff",
    "\u200e",  # direction marks
    "\u200f",
    "\u061c",
    "\u2060",  # word joiner
    "\u00ad",  # soft hyphen
    "\u2028",  # line separator
    "\x00",
    "\x07",
    "\x1b[31m",
    "\x1b]0;title\x07",  # a terminal window-title change
    "\x85",  # C1 controls
    "\x9b2J",
    "\r",
    "²",  # digits int() refuses
    "³",
    "①",
    "１２",  # full-width: int() takes them
    "٣",
    "〇",
    "Ⅻ",
    "\u0301",  # a lone combining accent
    "\ud7ff",
    "\U0010ffff",
    "&amp;",
    "<!channel>",
    "<@U0BOB|bob>",
    "<https://example.com|click>",
    "*bold*",
    "`code`",
    "**",
    "{title}",
    "{0}",
    "%s",
    "<b>",
    "</code>",
    "-",
    "--force",
    "--signal",
    ":",
    "\\",
    "'",
    '"',
]
NUMBERS = ["0", "1", "2", "3", "7", "-1", "+1", "01", "1.5", "1e3", "99999999999999999999", "2147483648", "NaN"]
DURATIONS = ["30m", "45s", "2h", "3d", "0m", "1w", "99999d", "-5m", "1.5h", "m", "10", "２h"]
DATES = ["2026-03-09", "2026-02-30", "tomorrow", "9999-12-31", "0000-00-00", "2026-03-09T10:00", "03/09"]
# Every general category: letters, marks, numbers, punctuation, symbols, separators, controls, format characters,
# private use and unassigned code points; lone surrogates ("Cs") only where JSON carries the text (a form body cannot).
CATEGORIES = [
    *("Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po"),
    *("Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Co", "Cn"),
]


def unicode_text(max_size: int = 40, surrogates: bool = False) -> st.SearchStrategy[str]:
    """Text drawn from one to three random Unicode categories (controls, bidi and invisible format characters included)."""
    categories = st.lists(st.sampled_from([*CATEGORIES, *(["Cs"] if surrogates else [])]), min_size=1, max_size=3, unique=True)
    return categories.flatmap(lambda chosen: _text_of(tuple(chosen), max_size))


@cache
def _text_of(categories: tuple[str, ...], max_size: int) -> st.SearchStrategy[str]:
    """Text of these categories: built once per choice (building the character set took a third of a claim example)."""
    return st.text(st.characters(categories=categories), min_size=1, max_size=max_size)


def free_text(surrogates: bool = False) -> st.SearchStrategy[str]:
    """A phrase with random unicode inside it, or random unicode alone: what a free-text field may receive."""
    phrase = st.sampled_from(PHRASES)
    return st.one_of(st.tuples(phrase, unicode_text(6, surrogates), phrase).map(" ".join), unicode_text(40, surrogates))


WORDS = ["in", "due", "mine", "all", "v", "to", "the", "battery", "next", "update", "at", "11:00", "help", "lobby", "#"]


def grammar_words(config) -> st.SearchStrategy[str]:
    """One word of the grammar, or a near miss of one."""
    people = list(config.team.people)
    verbs = sorted(registry().aliases)
    return st.one_of(
        st.sampled_from(verbs),
        st.sampled_from(verbs).map(str.upper),
        st.sampled_from(list(config.team.roles) + ["ceo", "Legal", "COMMANDER"]),
        st.sampled_from(list(config.playbooks) + ["product", "outage2"]),
        st.sampled_from([*SEVERITIES, "sev0", "sev5", "SEV1", "sev", "sev01", "sev١"]),
        st.sampled_from([*PHASES, "review", "Responding"]),
        st.sampled_from([*TEMPLATE_KINDS, "press"]),
        st.sampled_from([f"@{p}" for p in people] + ["@mallory", "@", "@@alice", "<@U0BOB>", "<@U0NOBODY>", "@100002", "@alice_chen"]),
        st.sampled_from([t.name for t in config.broadcast] + ["twitter", "https://weibo.com/1"]),
        st.integers(0, 12).map(lambda n: f"#{n}"),
        st.sampled_from(["#", "#-1", "#0", "#1234567890", "#１", "#1a"]),
        st.integers(0, 6).map(lambda n: f"v{n}"),
        st.sampled_from(["v", "V1", "v-1", "v99999999999999999999"]),
        st.sampled_from(NUMBERS),
        st.integers(-3, 40).map(str),
        st.sampled_from(DURATIONS),
        st.sampled_from(["in 30m", "in 2h", "due 2026-03-09", "due in 3d", "in", "due"]),
        st.sampled_from(DATES),
        st.sampled_from(WORDS),
        st.sampled_from(ODD),
        st.text(min_size=1, max_size=12),
        unicode_text(12),
        st.sampled_from(["x" * 300, "长" * 250, "😀" * 100, "a" * 4001]),
    )


PHRASES = [
    "We are sorry for the worry.",
    "Next update at 11:00.",
    "电池过热，我们深表歉意。下次更新：11:00。",
    "Probably the supplier's fault",
    "No comment",
    "Refund of $2,000 on 2026-03-09 by PowerMax Ltd",
    "Batch 2 is clean & the lab agrees",
]


def well_formed(config) -> st.SearchStrategy[str]:
    """A verb with the arguments its usage asks for (each may be dropped or replaced by an odd word)."""
    odd = grammar_words(config)
    words = st.one_of(st.sampled_from(PHRASES), st.lists(odd, min_size=1, max_size=5).map(" ".join), free_text())
    person = st.sampled_from([f"@{p}" for p in config.team.people] + ["@mallory", "<@U0BOB>"])
    role = st.sampled_from([*config.team.roles, "ceo"])
    number = st.integers(-1, 15).map(str)
    version = st.integers(0, 5).map(lambda n: f"v{n}")
    sev = st.sampled_from([*SEVERITIES, "sev0"])
    targets = st.lists(st.sampled_from([t.name for t in config.broadcast] + ["nowhere"]), max_size=3).map(" ".join)
    due = st.sampled_from(["in 30m", "in 3d", "due 2026-03-09", "due in 2h", "due tomorrow", ""])
    args = {
        "declare": [st.sampled_from(list(config.playbooks)), sev, words],
        "drill": [st.sampled_from(list(config.playbooks)), sev, st.sampled_from(["", "default", "unknown"])],
        "draft": [words],
        "vet": [words],
        "note": [words],
        "update": [words],
        "resolve": [words],
        "lesson": [st.sampled_from(["+", "-", ""]), words],
        "approve": [version],
        "reject": [version, words],
        "action": [words, person, due],
        "task": [words, st.one_of(person, role, st.just("")), due],
        "done": [st.one_of(number, number.map(lambda n: f"a{n}"))],
        "undo": [number],
        "skip": [number, words],
        "answer": [number.map(lambda n: f"i{n}"), words],
        "sev": [st.one_of(number, sev)],
        "phase": [st.sampled_from([*PHASES, "review"])],
        "template": [st.sampled_from([*TEMPLATE_KINDS, ""])],
        "close": [st.sampled_from(["", "--force", "--force Review done elsewhere"])],
        "publish": [targets],
        "published": [targets, st.sampled_from(["https://weibo.com/1", "", "not a url"])],
        "assign": [role, person],
        "handoff": [role, person],
        "snooze": [st.sampled_from(["", "update", "approval", "1", "n1"]), st.sampled_from(["15m", "1h", "2d", ""])],
        "tasks": [st.sampled_from(["", "mine", "all"])],
        "help": [st.sampled_from(["", *sorted(registry().aliases)])],
    }

    @st.composite
    def command(draw) -> str:
        name = draw(st.sampled_from(sorted(registry().aliases)))
        verb = registry().aliases[name]
        parts = [draw(part) if draw(st.integers(0, 9)) else draw(odd) for part in args.get(verb, [st.lists(odd, max_size=3).map(" ".join)])]
        head = [f"#{draw(st.integers(1, 8))}"] if not draw(st.integers(0, 3)) else []
        return " ".join(p for p in [*head, name, *parts] if p)

    return command()


def command_texts(config) -> st.SearchStrategy[str]:
    """What follows `/crisis`: mostly a verb with grammar words after it, sometimes `#N` first, sometimes anything."""
    separators = st.sampled_from([" ", " ", " ", "  ", "\n", "\t", "\u3000", "\xa0"])
    word = grammar_words(config)

    @st.composite
    def grammatical(draw) -> str:
        head = [draw(st.integers(0, 12).map(lambda n: f"#{n}"))] if draw(st.booleans()) else []
        verb = draw(st.sampled_from(sorted(registry().aliases)))
        rest = draw(st.lists(word, max_size=8))
        parts = [*head, verb, *rest]
        return "".join(part + draw(separators) for part in parts).strip(" ")

    return st.one_of(
        well_formed(config),
        well_formed(config),
        well_formed(config),
        grammatical(),
        st.lists(word, max_size=6).map(" ".join),
        st.text(max_size=200),
        st.just(""),
    )
