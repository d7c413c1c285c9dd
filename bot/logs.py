"""Logging: one event per line, ids not payloads, tokens redacted.

Log calls name an event and pass ids as `extra`, e.g.
`log.info("outbox.sent", extra={"outbox_id": 7, "method": "chat.postMessage"})`.
On a terminal the line is readable text; anywhere else it is one JSON object.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

# Slack tokens (bot, user, app-level, refresh, config) and any bearer header.
_SECRET_PATTERNS = [
    re.compile(r"xox[abposre]-[A-Za-z0-9-]+"),
    re.compile(r"xapp-[A-Za-z0-9-]+"),
    # GitHub tokens: classic, fine-grained, OAuth and app installation tokens.
    re.compile(r"gh[pousr]_[A-Za-z0-9]{20,}"),
    re.compile(r"github_pat_[A-Za-z0-9_]{20,}"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
]
_REDACTED = "**redacted**"

# Attributes every LogRecord has; anything else came in through `extra`.
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

# Libraries whose DEBUG output is whole payloads; they speak at INFO and up
# unless the operator asks for DEBUG explicitly.
_CHATTY_LOGGERS = ("slack_sdk", "slack_bolt", "apscheduler", "urllib3")


def redact(text: str) -> str:
    """Replace anything that looks like a Slack token or bearer credential."""
    for pattern in _SECRET_PATTERNS:
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(1) + _REDACTED, text)
        else:
            text = pattern.sub(_REDACTED, text)
    return text


def _fields(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        event.update(_fields(record))
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(event, default=str))


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        pairs = " ".join(f"{k}={v}" for k, v in _fields(record).items())
        line = f"{when} {record.levelname:<7} {record.getMessage()} {pairs}".rstrip()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return redact(line)


def configure_logging(level: str = "INFO", fmt: str = "auto", stream=None) -> None:
    """Send every logger to `stream` (stderr) in the chosen format."""
    stream = stream or sys.stderr
    if fmt == "auto":
        fmt = "text" if stream.isatty() else "json"
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    library_level = level if level == "DEBUG" else max(logging.INFO, logging.getLevelName(level))
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(library_level)
