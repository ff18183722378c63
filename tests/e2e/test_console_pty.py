"""The console under a real pseudo-terminal: a welcome, line editing and history, Ctrl-C and Ctrl-D leave at once."""

import os
import sys
from pathlib import Path

import pytest

from config.load import STARTER

pexpect = pytest.importorskip("pexpect")
ROOT = Path(__file__).resolve().parent.parent.parent
UP, ENTER = "\x1b[A", "\r"
PROMPT = "alice @ #lobby>"  # prompt_toolkit draws the space after it as a cursor move


def spawn(folder: Path, language: str = "en"):
    """`onevoice console --as alice` on a terminal, in a folder holding the team file."""
    (folder / "onevoice.yaml").write_text(STARTER.read_text(encoding="utf-8").replace("language: en", f"language: {language}"), "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONEVOICE_")}
    env |= {"PYTHONPATH": str(ROOT), "ONEVOICE_DATABASE_URL": f"sqlite:///{folder / 'onevoice.db'}", "TERM": "xterm", "LANG": "C.UTF-8"}
    env["PROMPT_TOOLKIT_NO_CPR"] = "1"  # the test terminal does not answer cursor-position requests
    child = pexpect.spawn(
        sys.executable, ["-m", "bot.cli", "console", "--as", "alice"], cwd=str(folder), env=env, encoding="utf-8", timeout=60
    )
    child.setwinsize(40, 200)
    return child


def test_welcome_then_arrow_up_recalls_the_last_line_and_ctrl_c_leaves(tmp_path):
    child = spawn(tmp_path)
    child.expect("Welcome to OneVoice, Alice Chen")
    child.expect("Start with: help")
    child.expect(PROMPT)
    child.send("help" + ENTER)  # without the slash
    child.expect("OneVoice commands")
    child.expect(PROMPT)
    child.send(UP)  # history: the line comes back, to be run again
    child.expect("help")
    child.send(ENTER)
    child.expect("OneVoice commands")
    child.expect(PROMPT)
    child.sendintr()  # Ctrl-C at the prompt: out at once, no Enter needed
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_line_editing_and_ctrl_d(tmp_path):
    child = spawn(tmp_path)
    child.expect(PROMPT)
    child.send(":room nowhre")
    child.send("\x1b[D\x1b[D")  # two steps left, then the missing letter
    child.send("e" + ENTER)
    child.expect(r"there is no room #nowhere; rooms: lobby")
    child.expect(PROMPT)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_the_welcome_speaks_the_teams_language(tmp_path):
    child = spawn(tmp_path, "zh")
    child.expect("欢迎使用 OneVoice")
    child.expect(PROMPT)
    child.sendintr()
    child.expect(pexpect.EOF)
