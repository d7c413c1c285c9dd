"""What the Events API v2 accepts at ``POST /v2/enqueue``, and why it refuses the rest.

From PagerDuty's "Send an Alert Event" page and its Events v2 OpenAPI file:
``routing_key`` (32 characters) and ``event_action`` are always required;
``dedup_key`` (at most 255 characters) is required for acknowledge and
resolve; a trigger needs ``payload`` with ``summary`` (at most 1024
characters), ``source`` and ``severity`` (critical, error, warning, info);
``links`` need an ``href`` and ``images`` a ``src``; a whole event is at most
512 KB. A refusal is HTTP 400 with ``status: "invalid event"``, ``message:
"Event object is invalid"`` and a list of ``errors``; a body that is not a
JSON object is ``status: "Unrecognized object"``.

The docs quote only the routing key's error texts; the others below follow
their style. Like PagerDuty, every problem found is listed, not just the first.
"""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]

ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
ROUTING_KEY_LENGTH = 32
MAX_DEDUP_KEY_CHARS = 255
MAX_SUMMARY_CHARS = 1024
MAX_EVENT_BYTES = 512 * 1024
PAYLOAD_TEXT_FIELDS = ("summary", "source", "timestamp", "component", "group", "class")


def routing_key_problems(event: Json, known: bool) -> list[str]:
    """The routing key's problems; ``known`` says whether an integration has it."""
    key = event.get("routing_key")
    if not isinstance(key, str) or not key:
        return ["'routing_key' is missing or blank"]
    problems = []
    if len(key) != ROUTING_KEY_LENGTH:
        problems.append("Length of 'routing_key' is incorrect (should be 32 characters)")
    if not (key.isascii() and key.isalnum()):
        problems.append("'routing_key' cannot contain non-alphanumeric characters.")
    if not problems and not known:
        # Not in the docs, but what PagerDuty answers (since it started
        # checking keys before accepting events) for a well-formed key that
        # no integration has: a 400, not a silent 202.
        problems.append("Invalid routing key")
    return problems


def event_problems(event: Json) -> list[str]:
    """Everything else wrong with an event whose routing key is fine."""
    action = event.get("event_action")
    if action not in ACTIONS:
        return [f"'event_action' must be one of {', '.join(ACTIONS)}"]
    problems = _dedup_key_problems(event.get("dedup_key"), required=action != "trigger")
    if action == "trigger":
        problems += _payload_problems(event.get("payload"))
        problems += _list_problems(event, "links", "href")
        problems += _list_problems(event, "images", "src")
    return problems


def _dedup_key_problems(dedup_key: object, required: bool) -> list[str]:
    if dedup_key is None or dedup_key == "":
        return ["'dedup_key' is required for acknowledge and resolve"] if required else []
    if not isinstance(dedup_key, str):
        return ["'dedup_key' must be a string"]
    if len(dedup_key) > MAX_DEDUP_KEY_CHARS:
        return ["'dedup_key' is too long (maximum is 255 characters)"]
    return []


def _payload_problems(payload: object) -> list[str]:
    if payload is None:
        return ["'payload' is required for trigger events"]
    if not isinstance(payload, dict):
        return ["'payload' must be an object"]
    problems = [f"'{field}' must be a string" for field in PAYLOAD_TEXT_FIELDS
                if field in payload and not isinstance(payload[field], str)]
    for field in ("summary", "source", "severity"):
        if not payload.get(field):
            problems.append(f"'{field}' is missing or blank")
    summary = payload.get("summary")
    if isinstance(summary, str) and len(summary) > MAX_SUMMARY_CHARS:
        # Sic: PagerDuty's own text, misspelling and all.
        problems.append("'summary' is too long (maiximum is 1024 characters)")
    severity = payload.get("severity")
    if severity and severity not in SEVERITIES:
        problems.append(f"'severity' must be one of {', '.join(SEVERITIES)}")
    return problems


def _list_problems(event: Json, field: str, required_key: str) -> list[str]:
    items = event.get(field)
    if items is None:
        return []
    well_formed = isinstance(items, list) and all(
        isinstance(item, dict) and isinstance(item.get(required_key), str) for item in items
    )
    if well_formed:
        return []
    return [f"'{field}' must be a list of objects, each with a '{required_key}'"]
