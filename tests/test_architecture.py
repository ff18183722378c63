"""Dependencies point one way: bot → handlers → storage, config."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"bot", "slack_bolt", "slack_sdk", "telegram", "apscheduler"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", ["handlers", "storage", "config"])
def test_the_domain_never_imports_a_platform(package):
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & FORBIDDEN)
        for path in (ROOT / package).rglob("*.py")
        if _imports(path) & FORBIDDEN
    }
    assert offenders == {}


def test_the_check_itself_catches_a_platform_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import slack_sdk\nfrom telegram.ext import Application\nfrom bot.app import OneVoice\n")
    assert _imports(sample) & FORBIDDEN == {"slack_sdk", "telegram", "bot"}


def test_no_utils_module():
    assert not list(ROOT.glob("*/utils.py"))
