"""Config files built to hurt: an alias bomb, a huge file, a number of thousands of digits — refused at once, in words."""

import subprocess
import sys

import pytest


def _alias_bomb() -> str:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):
        before, name = chr(96 + level), chr(97 + level)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{before}"] * 9) + "]")
    return "\n".join([*lines, "team: *i"]) + "\n"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (_alias_bomb(), "repeated references (YAML aliases)"),
        ("language: en\n" + "# padding\n" * 120_000, "too large to be a config file"),
        ("lease: 1" + "0" * 100_000 + "\n", "number too long"),
    ],
    ids=["alias-bomb", "huge", "long-number"],
)
def test_a_hostile_config_is_refused_in_words_by_check_config_and_the_console(tmp_path, text, said):
    path = tmp_path / "onevoice.yaml"
    path.write_text(text, encoding="utf-8")
    for args in (["check-config", str(path)], ["console", "--as", "alice"]):
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={"ONEVOICE_CONFIG": str(path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode in (1, 2) and said in done.stderr + done.stdout, (args, done.stdout[-500:], done.stderr[-500:])
        assert "Traceback" not in done.stderr
