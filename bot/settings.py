"""Settings come from the environment; a `.env` file beside the process is read first."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import load_dotenv

SLACK_DEFAULT_API_URL = "https://slack.com/api/"

# Where a new user finds each token, so the error can name the fix.
_TOKEN_HELP = {
    "SLACK_BOT_TOKEN": (
        "copy the Bot User OAuth Token (xoxb-...) from your Slack app's "
        "'OAuth & Permissions' page into .env"
    ),
    "SLACK_APP_TOKEN": (
        "create an app-level token with the connections:write scope under "
        "'Basic Information > App-Level Tokens' and put it (xapp-...) into .env"
    ),
}


class SettingsError(Exception):
    """A setting is missing or malformed; the message says how to fix it."""


class Secret(str):
    """A string that never shows itself in a repr, a log line or a traceback."""

    def __repr__(self) -> str:
        return "Secret('**redacted**')"

    def reveal(self) -> str:
        return str.__str__(self)


@dataclass(frozen=True)
class Settings:
    slack_bot_token: Secret
    slack_app_token: Secret
    slack_api_url: str
    policy_path: Path
    db_path: Path
    log_level: str
    log_format: str
    shutdown_grace_seconds: float
    google_service_account_file: Path | None = None
    google_admin_email: str | None = None
    google_api_endpoint: str | None = None
    github_token: Secret = Secret("")
    github_api_url: str | None = None
    # Incident integrations: each is off until its key is set.
    abuseipdb_api_key: Secret = Secret("")
    abuseipdb_api_url: str | None = None
    virustotal_api_key: Secret = Secret("")
    virustotal_api_url: str | None = None
    pagerduty_routing_key: Secret = Secret("")
    pagerduty_events_url: str | None = None

    def google_ready(self) -> str | None:
        """None when Google can be reached, else what is missing, as one line."""
        if not self.google_service_account_file:
            return (
                "GOOGLE_SERVICE_ACCOUNT_FILE is not set: point it at the JSON key of a "
                "service account with domain-wide delegation"
            )
        if not self.google_service_account_file.exists():
            return f"GOOGLE_SERVICE_ACCOUNT_FILE: no file at {self.google_service_account_file}"
        if not self.google_admin_email:
            return "GOOGLE_ADMIN_EMAIL is not set: the admin the scanner acts as to list users"
        return None


def read_env_file(path: str | Path = ".env") -> None:
    """Load a `.env` file if present; variables already set win."""
    load_dotenv(path, override=False)


def load_settings(env: Mapping[str, str] | None = None, need_tokens: bool = True) -> Settings:
    """Build settings from `env` (default: the process environment)."""
    env = os.environ if env is None else env
    return Settings(
        slack_bot_token=_token(env, "SLACK_BOT_TOKEN", "xoxb-", need_tokens),
        slack_app_token=_token(env, "SLACK_APP_TOKEN", "xapp-", need_tokens),
        slack_api_url=_api_url(env.get("SLACK_API_URL") or SLACK_DEFAULT_API_URL),
        policy_path=Path(env.get("WARDEN_POLICY") or "warden.yaml"),
        db_path=Path(env.get("WARDEN_DB") or "warden.db"),
        log_level=_choice(env, "LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR"}),
        log_format=_choice(env, "LOG_FORMAT", "auto", {"auto", "json", "text"}),
        shutdown_grace_seconds=_seconds(env, "WARDEN_SHUTDOWN_GRACE", 8.0),
        google_service_account_file=_path(env.get("GOOGLE_SERVICE_ACCOUNT_FILE")),
        google_admin_email=(env.get("GOOGLE_ADMIN_EMAIL") or "").strip().lower() or None,
        google_api_endpoint=env.get("GOOGLE_API_ENDPOINT") or None,
        github_token=Secret(env.get("GITHUB_TOKEN", "").strip()),
        github_api_url=env.get("GITHUB_API_URL") or None,
        abuseipdb_api_key=Secret(env.get("ABUSEIPDB_API_KEY", "").strip()),
        abuseipdb_api_url=env.get("ABUSEIPDB_API_URL") or None,
        virustotal_api_key=Secret(env.get("VIRUSTOTAL_API_KEY", "").strip()),
        virustotal_api_url=env.get("VIRUSTOTAL_API_URL") or None,
        pagerduty_routing_key=Secret(env.get("PAGERDUTY_ROUTING_KEY", "").strip()),
        pagerduty_events_url=env.get("PAGERDUTY_EVENTS_URL") or None,
    )


def _token(env: Mapping[str, str], name: str, prefix: str, required: bool) -> Secret:
    value = env.get(name, "").strip()
    if not value:
        if required:
            raise SettingsError(f"{name} is not set: {_TOKEN_HELP[name]}")
        return Secret("")
    if not value.startswith(prefix):
        raise SettingsError(f"{name} must start with {prefix}: {_TOKEN_HELP[name]}")
    return Secret(value)


def _api_url(url: str) -> str:
    # slack_sdk joins method names onto the base URL, so it needs the slash.
    return url if url.endswith("/") else url + "/"


def _choice(env: Mapping[str, str], name: str, default: str, allowed: set[str]) -> str:
    value = env.get(name) or default
    canonical = value.upper() if name == "LOG_LEVEL" else value.lower()
    if canonical not in allowed:
        choices = ", ".join(sorted(allowed))
        raise SettingsError(f"{name}={value!r} is not valid: use one of {choices}")
    return canonical


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name)
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, like 8") from None
