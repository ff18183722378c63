"""E-mail and webhook targets in onevoice.yaml: addresses and URLs checked at load with their lines, warnings for a mail
target without a mail server and for a webhook secret missing from the environment; `run` refuses a broken SMTP setting."""

import pytest

from bot.run import Refused, _start_channels, _Started
from config.errors import ConfigError
from config.gaps import Surroundings, gaps
from config.load import parse_config
from config.settings import Settings

TARGETS = """broadcast:
  - {name: press-release, email: [desk@a.example, News@B.Example]}
  - {name: cms, webhook: "https://cms.example/hooks/onevoice", secret_env: CMS_WEBHOOK_SECRET}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "team.yaml")
    return [str(problem) for problem in caught.value.problems]


def test_good_targets_load_with_their_addresses_normalised():
    config = parse_config(TARGETS, "team.yaml")
    mail, hook = config.broadcast
    assert mail.email[0] == "desk@a.example" and mail.email[1].endswith("@b.example")  # the domain as the validator writes it
    assert hook.webhook == "https://cms.example/hooks/onevoice" and hook.secret_env == "CMS_WEBHOOK_SECRET"


@pytest.mark.parametrize(
    ("target", "said"),
    [
        ('{name: pr, email: [desk@a.example, "not an address"]}', "team.yaml:2: broadcast.0.email.1: 'not an address' is not an e-mail"),
        ("{name: pr, email: [desk@a.example\\nBcc: x@y.example]}", "team.yaml:2: broadcast.0.email.0:"),
        ("{name: pr, email: []}", "team.yaml:2: broadcast.0.email:"),
        (
            '{name: cms, webhook: "ftp://cms.example/h", secret_env: S}',
            "team.yaml:2: broadcast.0.webhook: 'ftp://cms.example/h' is not a webhook",
        ),
        ('{name: cms, webhook: "https:///nohost", secret_env: S}', "is not a webhook address"),
        ('{name: cms, webhook: "https://cms.example/h"}', "team.yaml:2: broadcast.0: a webhook target needs `secret_env`"),
        ('{name: cms, webhook: "https://cms.example/h", secret_env: "A B"}', "team.yaml:2: broadcast.0.secret_env:"),
        ("{name: pr, email: [a@b.example], slack: C1}", "team.yaml:2: broadcast.0: a target is one kind: email, slack"),
        ("{name: pr, secret_env: S}", "`secret_env` belongs to a webhook target"),
    ],
)
def test_a_wrong_target_is_refused_at_its_line(target, said):
    found = problems(f"broadcast:\n  - {target}\n")
    assert len(found) == 1 and said in found[0], found


def test_warnings_for_a_mail_target_without_smtp_and_a_webhook_secret_not_set():
    config = parse_config(TARGETS, "team.yaml")
    said = [str(w) for w in gaps(config, TARGETS, "team.yaml", Surroundings(frozenset({"slack"}), environment={}))]
    assert said == [
        "team.yaml:2: broadcast.0: e-mail target “press-release” has no mail server: set ONEVOICE_SMTP_URL and ONEVOICE_MAIL_FROM,"
        " or nothing is sent to it",
        "team.yaml:3: broadcast.1: webhook target “cms” is signed with CMS_WEBHOOK_SECRET, which is not set: set it, or every"
        " delivery to it fails",
    ]
    ready = Surroundings(frozenset({"slack"}), smtp=True, environment={"CMS_WEBHOOK_SECRET": "x"})
    assert gaps(config, TARGETS, "team.yaml", ready) == []


class _Bot:
    """What `_start_channels` reads and calls on the bot."""

    def __init__(self, config):
        self.config, self.attached = config, []

    def attach(self, adapter, channel=False):
        self.attached.append((adapter.platform, channel))


class _Stack:
    def push_async_callback(self, callback):
        pass


async def _channels(env: dict, monkeypatch, text: str = TARGETS):
    for name in ("ONEVOICE_SMTP_URL", "ONEVOICE_MAIL_FROM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    bot = _Bot(parse_config(text, "team.yaml"))
    modes = await _start_channels(_Started(bot, Settings(), None, _Stack(), None))
    return bot.attached, modes


async def test_run_attaches_mail_when_smtp_is_set_and_webhooks_when_a_target_is_one(monkeypatch):
    attached, modes = await _channels(
        {"ONEVOICE_SMTP_URL": "smtp://u:pa55word@mail.example:587", "ONEVOICE_MAIL_FROM": "d@x.example"}, monkeypatch
    )
    assert attached == [("mail", True), ("webhook", True)] and "pa55word" not in " ".join(modes)
    assert await _channels({}, monkeypatch, "language: en\n") == ([], [])


@pytest.mark.parametrize(
    "env",
    [
        {"ONEVOICE_SMTP_URL": "smtp://u:pa55word@mail.example:587"},  # no sender
        {"ONEVOICE_SMTP_URL": "imap://u:pa55word@mail.example", "ONEVOICE_MAIL_FROM": "d@x.example"},
        {"ONEVOICE_SMTP_URL": "smtp://u:pa55word@mail.example:587", "ONEVOICE_MAIL_FROM": "not a sender"},
    ],
)
async def test_run_refuses_a_broken_mail_setting_without_showing_the_password(env, monkeypatch):
    with pytest.raises(Refused) as refused:
        await _channels(env, monkeypatch)
    assert "ONEVOICE_" in str(refused.value) and "pa55word" not in str(refused.value)
