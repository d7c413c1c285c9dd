import io
import json
import logging

import pytest

from bot.logs import configure_logging, redact


@pytest.fixture(autouse=True)
def restore_root_logger():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_redact_hides_every_kind_of_slack_token():
    """Bot, user and app-level tokens and bearer headers are all replaced."""
    line = "xoxb-1-2-abc xoxp-9-8 xapp-1-A0-3-ff Authorization: Bearer s3cr3t"

    cleaned = redact(line)

    for secret in ("xoxb-1-2-abc", "xoxp-9-8", "xapp-1-A0-3-ff", "s3cr3t"):
        assert secret not in cleaned


def test_json_lines_carry_the_event_and_its_ids():
    """Off a terminal each event is one JSON object with the ids passed as extra."""
    stream = io.StringIO()
    configure_logging("INFO", "json", stream)

    logging.getLogger("warden.test").info("grant.revoked", extra={"grant_id": 12})

    event = json.loads(stream.getvalue())
    assert event["event"] == "grant.revoked"
    assert event["grant_id"] == 12
    assert event["level"] == "info"


def test_token_in_a_log_argument_is_redacted():
    """A token that slips into a log call's fields never reaches the output."""
    stream = io.StringIO()
    configure_logging("INFO", "json", stream)

    logging.getLogger("warden.test").info("oops", extra={"header": "Bearer xoxb-1-2-leak"})

    assert "xoxb-1-2-leak" not in stream.getvalue()


def test_text_format_is_one_readable_line():
    """On a terminal the event reads as time, level, event, then key=value pairs."""
    stream = io.StringIO()
    configure_logging("INFO", "text", stream)

    logging.getLogger("warden.test").warning("outbox.postponed", extra={"outbox_id": 3})

    line = stream.getvalue().strip()
    assert "WARNING" in line and "outbox.postponed" in line and "outbox_id=3" in line
    assert "\n" not in line
