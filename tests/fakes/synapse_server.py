"""A real Synapse homeserver (matrix-synapse from PyPI) for the Matrix end-to-end tests: SQLite, one loopback listener,
no federation, no TLS, users registered by shared secret. Not a fake: the one platform whose real server we can run.

The message rate limits are low (`Limits`), and every user the tests make is exempt from them through Synapse's admin
API (`override_ratelimit`) unless registered with `limited=True`: one server serves the ordinary tests and the fault test.
"""

from __future__ import annotations

import atexit
import hashlib
import hmac
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

SERVER_NAME = "localhost"


@dataclass(frozen=True)
class Limits:
    """Synapse's limits for users that are not exempt: messages (and state events) per second and burst; invites, joins,
    room creations likewise. Low enough that a bot that sends a burst is answered 429 M_LIMIT_EXCEEDED several times."""

    per_second: float = 3.0  # a declaration is some 50 calls: a few seconds of waits at this pace, with 429s on the way
    burst: int = 2


@dataclass(frozen=True)
class Account:
    """A registered Matrix user: its id and an access token."""

    user_id: str
    token: str
    password: str

    @property
    def localpart(self) -> str:
        return self.user_id[1:].split(":", 1)[0]


def homeserver_yaml(folder: Path, port: int, shared_secret: str, limits: Limits) -> str:
    """A minimal homeserver.yaml for loopback tests (JSON is YAML)."""
    rate = {"per_second": limits.per_second, "burst_count": limits.burst}
    loose = {"per_second": 1000, "burst_count": 1000}  # login and registration: not what the fault test is about
    config = {
        "server_name": SERVER_NAME,
        "public_baseurl": f"http://127.0.0.1:{port}/",
        "pid_file": str(folder / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(folder / "homeserver.db")}},
        "log_config": str(folder / "log.yaml"),
        "media_store_path": str(folder / "media"),
        "signing_key_path": str(folder / "signing.key"),
        "registration_shared_secret": shared_secret,
        "enable_registration": False,
        "report_stats": False,
        "bcrypt_rounds": 4,  # registering a user in milliseconds, not a second (the passwords are throwaway)
        "macaroon_secret_key": secrets.token_hex(16),
        "form_secret": secrets.token_hex(16),
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],  # no federation: nothing leaves loopback
        "presence": {"enabled": False},
        "url_preview_enabled": False,
        "enable_metrics": False,
        "enable_media_repo": False,  # no uploads in the tests: its storage and thumbnailer are not started
        "stats": {"enabled": False},  # no room statistics to keep up to date on each event
        "user_directory": {"enabled": False},  # nor a user search index on each join
        "encryption_enabled_by_default_for_room_type": "off",
        "rc_message": rate,
        "rc_invites": {"per_room": rate, "per_user": rate, "per_issuer": rate},
        "rc_joins": {"local": rate, "remote": rate},
        "rc_joins_per_room": rate,
        "rc_room_creation": rate,
        "rc_registration": loose,
        "rc_login": {"address": loose, "account": loose, "failed_attempts": loose},
    }
    return json.dumps(config, indent=1)


def log_yaml(folder: Path) -> str:
    """Synapse's log to a file; the access log at INFO, so a 429 answered to a user can be read back."""
    config = {
        "version": 1,
        "formatters": {"plain": {"format": "%(asctime)s %(name)s %(levelname)s %(request)s %(message)s"}},
        "filters": {"context": {"()": "synapse.logging.context.LoggingContextFilter", "request": ""}},
        "handlers": {
            "file": {
                "class": "logging.FileHandler",
                "formatter": "plain",
                "filters": ["context"],
                "filename": str(folder / "homeserver.log"),
            }
        },
        "loggers": {"synapse.access.http": {"level": "INFO"}, "synapse.storage.SQL": {"level": "WARNING"}},
        "root": {"level": "WARNING", "handlers": ["file"]},
        "disable_existing_loggers": False,
    }
    return json.dumps(config, indent=1)


class SynapseError(RuntimeError):
    """Synapse could not be started (its log tail in the message)."""


class Synapse:
    """One Synapse process on a folder: `start()`, `register()`, `stop()`."""

    def __init__(self, folder: Path, port: int, limits: Limits = Limits()):
        self.folder, self.port, self.limits = folder, port, limits
        self.url = f"http://127.0.0.1:{port}"
        self.shared_secret = secrets.token_hex(16)
        self.process: subprocess.Popen | None = None
        self.start_seconds = 0.0
        self.admin: Account | None = None
        self._count = 0

    # ---- lifecycle

    def start(self, timeout: float = 120) -> Synapse:
        """Write the config and a signing key, start the homeserver, wait until it answers; register an admin."""
        from signedjson.key import generate_signing_key, write_signing_keys

        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "media").mkdir(exist_ok=True)
        with (self.folder / "signing.key").open("w") as out:
            write_signing_keys(out, [generate_signing_key("a_test")])
        (self.folder / "log.yaml").write_text(log_yaml(self.folder))
        config = self.folder / "homeserver.yaml"
        config.write_text(homeserver_yaml(self.folder, self.port, self.shared_secret, self.limits))
        started = time.monotonic()
        with (self.folder / "stdout.log").open("w") as out:  # a file, not a pipe: an unread pipe would stall it
            self.process = subprocess.Popen(
                [sys.executable, "-m", "synapse.app.homeserver", "-c", str(config)],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                start_new_session=True,  # its own process group: stop() ends it and anything it started
            )
        atexit.register(self.stop)  # a session cut short (Ctrl-C: its own session does not get the signal) still ends it
        deadline = started + timeout
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = self.log_tail()
                self.stop()
                raise SynapseError(f"Synapse did not answer on {self.url} within {timeout}s:\n{tail}")
            time.sleep(0.1)
        self.start_seconds = time.monotonic() - started
        self.admin = self.register("admin", admin=True)
        return self

    def stop(self) -> None:
        """SIGTERM to its process group, then SIGKILL if it lingers."""
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
            except ProcessLookupError:
                pass
        self.process = None

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return False

    def log_tail(self, size: int = 4000) -> str:
        text = ""
        for name in ("stdout.log", "homeserver.log"):
            path = self.folder / name
            if path.exists():
                text += f"--- {name}\n" + path.read_text(errors="replace")[-size:]
        return text

    def access_log(self) -> str:
        path = self.folder / "homeserver.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def limited_answers(self, user_id: str) -> int:
        """How many requests of this user Synapse answered 429 (its access log)."""
        return sum(1 for line in self.access_log().splitlines() if " 429 " in line and user_id in line)

    # ---- the admin API

    def call(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
        """One JSON request to the homeserver; the answer's JSON (an HTTP error raises with Synapse's answer)."""
        request = urllib.request.Request(self.url + path, method=method, data=None if body is None else json.dumps(body).encode())
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as error:
            raise AssertionError(f"{method} {path} → {error.code}: {error.read()[:500]!r}") from None

    def register(self, localpart: str, admin: bool = False, limited: bool = False, displayname: str | None = None) -> Account:
        """Register a user by shared secret (HMAC-SHA1 over nonce, user, password, admin flag); exempt from the rate
        limits unless `limited`."""
        password = secrets.token_hex(8)
        nonce = self.call("GET", "/_synapse/admin/v1/register")["nonce"]
        mac = hmac.new(self.shared_secret.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), localpart.encode(), password.encode(), b"admin" if admin else b"notadmin"]))
        body = {"nonce": nonce, "username": localpart, "password": password, "admin": admin, "mac": mac.hexdigest()}
        if displayname:
            body["displayname"] = displayname
        answer = self.call("POST", "/_synapse/admin/v1/register", body)
        account = Account(answer["user_id"], answer["access_token"], password)
        if not limited:
            self.exempt(account.user_id, account.token if admin else None)
        return account

    def exempt(self, user_id: str, admin_token: str | None = None) -> None:
        """Lift every rate limit for this user (a zero override disables all of Synapse's limiters for it)."""
        token = admin_token or (self.admin.token if self.admin else None)
        quoted = urllib.parse.quote(user_id)
        self.call("POST", f"/_synapse/admin/v1/users/{quoted}/override_ratelimit", {"messages_per_second": 0, "burst_count": 0}, token)

    def limit(self, user_id: str, messages: Limits | None = None) -> None:
        """Put this user back under the server's rate limits (`Limits`); with `messages`, its messages and state events
        under those instead (Synapse honours a non-zero override for its event limiter only: invites, joins and room
        creations keep the server's)."""
        assert self.admin is not None
        path = f"/_synapse/admin/v1/users/{urllib.parse.quote(user_id)}/override_ratelimit"
        if messages is None:
            self.call("DELETE", path, token=self.admin.token)
        else:
            rate = {"messages_per_second": int(messages.per_second), "burst_count": messages.burst}  # whole numbers, and not 0
            assert rate["messages_per_second"] > 0 < rate["burst_count"], "a zero override would lift the limits instead"
            self.call("POST", path, rate, self.admin.token)

    def fresh(self, stem: str) -> str:
        """A localpart not used yet on this server (every test registers its own bot)."""
        self._count += 1
        return f"{stem}{self._count}"
