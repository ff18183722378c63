"""The environment a subcommand runs in: its settings, its database, and which variables each reads (for its --help)."""

from config.settings import Settings


def settings() -> Settings:
    """The settings, from the environment."""
    return Settings()


def database(settings: Settings, migrate: bool = True):
    """The configured database, migrated to the newest schema unless `migrate` is False (reading never creates one)."""
    from storage.db import open_database

    return open_database(settings.database_url, migrate=migrate)


TEAM = ["ONEVOICE_CONFIG", "ONEVOICE_DATABASE_URL", "ONEVOICE_CLOCK_START"]
EVERY = ["LANG (zh_CN.UTF-8: failures before the config is read are told in Chinese)"]


def _all_settings() -> list[str]:
    return [str(field.validation_alias) for field in Settings.model_fields.values()]


READS = {
    "demo": [],
    "console": [
        *TEAM,
        "ONEVOICE_DELIVERY_ATTEMPTS",
        "ONEVOICE_DELIVERY_GIVE_UP_SECONDS",
        "ONEVOICE_DELIVERY_FIRST_WAIT_SECONDS",
        "ONEVOICE_LEASE_SECONDS",
        "ONEVOICE_TICK_SECONDS",
    ],
    "run": _all_settings(),
    "signal": ["ONEVOICE_SIGNALS_SECRET", "ONEVOICE_HTTP_HOST", "ONEVOICE_HTTP_PORT"],
    "init": [],
    "check-config": [
        "ONEVOICE_CONFIG",
        "ONEVOICE_PUBLIC_URL",
        "SLACK_BOT_TOKEN",
        "TELEGRAM_BOT_TOKEN",
        "ONEVOICE_SIGNALS_SECRET",
        "ONEVOICE_SMTP_URL",
        "each webhook target's secret_env",
    ],
    "report": [*TEAM, "ONEVOICE_REPORTS_DIR"],
    "stats": TEAM,
    "db": ["ONEVOICE_DATABASE_URL"],
}


def epilog(command: str) -> str:
    """The end of a subcommand's --help: the environment it reads, and the exit codes."""
    names = READS[command] + EVERY
    reads = "environment:\n" + "\n".join(f"  {name}" for name in names)
    return reads + "\n\nexit codes: 0 done · 1 the command found a problem · 2 cannot start: fix the setting named · 130 interrupted"
