"""Settings from the environment (PRODUCT.md §8); secrets stay SecretStr."""

from datetime import datetime

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything OneVoice reads from the environment."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=False)

    # The team's file; without it ./onevoice.yaml, else the shipped demo team (which `run` refuses unless told).
    config_path: str | None = Field(None, validation_alias="ONEVOICE_CONFIG")
    demo_team: bool = Field(False, validation_alias="ONEVOICE_DEMO_TEAM")
    # The public base address of the HTTP listener: page links (`<public url>/s/<id>`).
    public_url: str | None = Field(None, validation_alias="ONEVOICE_PUBLIC_URL")
    database_url: str = Field("sqlite:///onevoice.db", validation_alias="ONEVOICE_DATABASE_URL")
    http_host: str = Field("127.0.0.1", validation_alias="ONEVOICE_HTTP_HOST")
    http_port: int = Field(3000, validation_alias="ONEVOICE_HTTP_PORT")
    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", validation_alias="ONEVOICE_SLACK_API_URL")
    telegram_bot_token: SecretStr | None = Field(None, validation_alias="TELEGRAM_BOT_TOKEN")
    telegram_webhook_secret: SecretStr | None = Field(None, validation_alias="TELEGRAM_WEBHOOK_SECRET")
    telegram_api_url: str = Field("https://api.telegram.org/bot", validation_alias="ONEVOICE_TELEGRAM_API_URL")
    # Messages a minute the bot sends into one Telegram group (a burst of that many, then evenly paced): Telegram's limit.
    # at least 9: the incident reserve (bot/telegram/limits.py, 8) and room for one question
    telegram_group_per_minute: int = Field(20, ge=9, validation_alias="ONEVOICE_TELEGRAM_GROUP_PER_MINUTE")
    # Matrix (PRODUCT.md §12): the homeserver's client-server address, the bot's user id, and a token or a password.
    matrix_homeserver: str | None = Field(None, validation_alias="MATRIX_HOMESERVER")
    matrix_user_id: str | None = Field(None, validation_alias="MATRIX_USER_ID")
    matrix_access_token: SecretStr | None = Field(None, validation_alias="MATRIX_ACCESS_TOKEN")
    matrix_password: SecretStr | None = Field(None, validation_alias="MATRIX_PASSWORD")
    # How long one /sync waits for news: also how long a stop may wait for the sync in flight to be cancelled.
    matrix_sync_timeout_ms: int = Field(30000, ge=0, le=120000, validation_alias="ONEVOICE_MATRIX_SYNC_TIMEOUT_MS")
    signals_secret: SecretStr | None = Field(None, validation_alias="ONEVOICE_SIGNALS_SECRET")
    # Where review reports are written; by default `reports/` beside the SQLite database (or in the current folder).
    reports_dir: str | None = Field(None, validation_alias="ONEVOICE_REPORTS_DIR")
    # Rehearsals and tests: the process clock starts at this instant and runs at real speed from there.
    clock_start: datetime | None = Field(None, validation_alias="ONEVOICE_CLOCK_START")
    # Operations (several replicas): log lines as `text` or `json`, their level, and how long SIGTERM may take.
    log_format: str = Field("text", validation_alias="ONEVOICE_LOG_FORMAT")
    log_level: str = Field("WARNING", validation_alias="ONEVOICE_LOG_LEVEL")
    shutdown_seconds: float = Field(10.0, validation_alias="ONEVOICE_SHUTDOWN_SECONDS")
    # How long a claim on a nudge or an effect lasts unless renewed: how soon a dead replica's work is taken over.
    lease_seconds: float = Field(30.0, gt=0, validation_alias="ONEVOICE_LEASE_SECONDS")
    # Seconds between two safety ticks: how soon a replica finds reminders and deliveries it was not told about.
    tick_seconds: float = Field(15.0, gt=0, validation_alias="ONEVOICE_TICK_SECONDS")
    # Seconds between two messages the bot posts to one Slack channel or DM: Slack allows about one a second per channel.
    slack_pace_seconds: float = Field(1.0, ge=0, validation_alias="ONEVOICE_SLACK_PACE_SECONDS")
    # The internal listener for /readyz and /metrics (never route it from the internet); port 0 turns it off.
    admin_host: str = Field("127.0.0.1", validation_alias="ONEVOICE_ADMIN_HOST")
    admin_port: int = Field(9090, ge=0, le=65535, validation_alias="ONEVOICE_ADMIN_PORT")
    # What a client gets to send a request: its headers, then its body, each within this time; and how many connections.
    http_header_seconds: float = Field(5.0, gt=0, validation_alias="ONEVOICE_HTTP_HEADER_SECONDS")
    http_body_seconds: float = Field(10.0, gt=0, validation_alias="ONEVOICE_HTTP_BODY_SECONDS")
    http_max_connections: int = Field(1000, gt=0, validation_alias="ONEVOICE_HTTP_MAX_CONNECTIONS")
    # Delivery: tries of one effect before it is given up (the room is then told), and about how long those tries span.
    delivery_attempts: int = Field(8, ge=1, le=50, validation_alias="ONEVOICE_DELIVERY_ATTEMPTS")
    delivery_give_up_seconds: float = Field(1800.0, gt=0, validation_alias="ONEVOICE_DELIVERY_GIVE_UP_SECONDS")
    # The wait before the first retry of an effect the platform did not say when to retry (each later wait is longer).
    delivery_first_wait_seconds: float = Field(2.0, gt=0, validation_alias="ONEVOICE_DELIVERY_FIRST_WAIT_SECONDS")
    # Processed-event keys and delivered outbox rows older than this are pruned; at least 2 days, longer than any
    # platform retries a delivery (Telegram keeps an update for 24 hours), so a redelivery is still recognised.
    retention_days: float = Field(30.0, ge=2, validation_alias="ONEVOICE_RETENTION_DAYS")
    # E-mail broadcast targets (PRODUCT.md §11): smtp://user:password@host:587 (STARTTLS), smtps://… (TLS), or
    # smtp://host:port (no login: a local relay); a secret, since it carries the password. And the sender's address.
    smtp_url: SecretStr | None = Field(None, validation_alias="ONEVOICE_SMTP_URL")
    mail_from: str | None = Field(None, validation_alias="ONEVOICE_MAIL_FROM")
