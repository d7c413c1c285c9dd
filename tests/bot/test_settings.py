from pathlib import Path

import pytest

from bot.settings import SLACK_DEFAULT_API_URL, SettingsError, load_settings

TOKENS = {"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_APP_TOKEN": "xapp-1-A1-2-def"}


def test_defaults_point_at_slack_and_local_files():
    """With only the tokens set, Warden talks to Slack and keeps its files beside it."""
    settings = load_settings(TOKENS)

    assert settings.slack_api_url == SLACK_DEFAULT_API_URL
    assert settings.policy_path == Path("warden.yaml")
    assert settings.db_path == Path("warden.db")


def test_api_url_gets_the_trailing_slash_slack_sdk_needs():
    """SLACK_API_URL without a trailing slash still joins method names correctly."""
    settings = load_settings({**TOKENS, "SLACK_API_URL": "http://127.0.0.1:9/api"})

    assert settings.slack_api_url == "http://127.0.0.1:9/api/"


@pytest.mark.parametrize("missing", ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"])
def test_missing_token_names_the_variable(missing):
    """A missing token is an error naming the variable and where to find it."""
    env = {k: v for k, v in TOKENS.items() if k != missing}

    with pytest.raises(SettingsError, match=missing):
        load_settings(env)


def test_token_of_the_wrong_kind_is_refused():
    """A user token in SLACK_BOT_TOKEN is caught before Slack refuses it."""
    with pytest.raises(SettingsError, match="must start with xoxb-"):
        load_settings({**TOKENS, "SLACK_BOT_TOKEN": "xoxp-123"})


def test_tokens_not_needed_for_offline_commands():
    """check-config and audit work without Slack tokens."""
    settings = load_settings({}, need_tokens=False)

    assert settings.slack_bot_token == ""


def test_tokens_hide_in_repr():
    """A settings object printed in a traceback does not show the tokens."""
    settings = load_settings(TOKENS)

    assert "xoxb" not in repr(settings)
    assert "xapp" not in repr(settings)


def test_bad_log_level_lists_the_choices():
    """LOG_LEVEL=LOUD says which levels exist."""
    with pytest.raises(SettingsError, match="DEBUG, ERROR, INFO, WARNING"):
        load_settings({**TOKENS, "LOG_LEVEL": "loud"})
