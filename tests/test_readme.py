"""README's commands are the ones CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _commands() -> list[str]:
    return re.findall(r"```sh\n(.+?)\n```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)


def test_ci_runs_the_readme_test_command_verbatim():
    test_command = next(c for c in _commands() if "pytest" in c)
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_runs_the_demo():
    assert any(c.endswith("onevoice demo") for c in _commands())


def test_ci_fuzzes_over_5000_inputs_a_run_and_the_readme_says_how():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    scale = float(re.search(r'export ONEVOICE_FUZZ_SCALE="\$\{ONEVOICE_FUZZ_SCALE:-(\d+)\}"', ci).group(1))
    counts = [int(n) for path in (ROOT / "tests").rglob("*.py") for n in re.findall(r"^@examples\((\d+)\)", path.read_text("utf-8"), re.M)]
    assert len(counts) >= 10 and sum(max(1, int(count * scale)) for count in counts) >= 5000
    assert "ONEVOICE_FUZZ_SCALE" in (ROOT / "README.md").read_text(encoding="utf-8")
