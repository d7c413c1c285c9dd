"""``state.values`` entries: what a person's input looks like in a Slack payload.

Each input element type reports its value under its own key (``value``,
``selected_option``, ``selected_user``, ...). These helpers turn a plain Python
value (a string, an option's value, a list of them) into that entry.
"""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]

# element type -> (state key, initial_* key in the element, holds options?)
STATE_KEYS: dict[str, tuple[str, str, bool]] = {
    "plain_text_input": ("value", "initial_value", False),
    "email_text_input": ("value", "initial_value", False),
    "url_text_input": ("value", "initial_value", False),
    "number_input": ("value", "initial_value", False),
    "rich_text_input": ("rich_text_value", "initial_value", False),
    "static_select": ("selected_option", "initial_option", True),
    "external_select": ("selected_option", "initial_option", True),
    "radio_buttons": ("selected_option", "initial_option", True),
    "multi_static_select": ("selected_options", "initial_options", True),
    "multi_external_select": ("selected_options", "initial_options", True),
    "checkboxes": ("selected_options", "initial_options", True),
    "users_select": ("selected_user", "initial_user", False),
    "multi_users_select": ("selected_users", "initial_users", False),
    "conversations_select": ("selected_conversation", "initial_conversation", False),
    "multi_conversations_select": ("selected_conversations", "initial_conversations", False),
    "channels_select": ("selected_channel", "initial_channel", False),
    "multi_channels_select": ("selected_channels", "initial_channels", False),
    "datepicker": ("selected_date", "initial_date", False),
    "timepicker": ("selected_time", "initial_time", False),
    "datetimepicker": ("selected_date_time", "initial_date_time", False),
}


MANY_KEYS = {"selected_options", "selected_users", "selected_conversations", "selected_channels"}


def element_state(element: Json, value: Any) -> Json:
    """The state entry for ``element``; ``None`` means "left as it opened"."""
    kind = str(element.get("type"))
    key, initial_key, has_options = STATE_KEYS.get(kind, ("value", "initial_value", False))
    many = key in MANY_KEYS
    if value is None:
        chosen = element.get(initial_key, [] if many else None)
    elif has_options:
        values = value if isinstance(value, list) else [value]
        options = [_option(element, v) for v in values]
        chosen = options if many else options[0]
    else:
        chosen = list(value) if many and isinstance(value, (list, tuple)) else value
    return {"type": kind, key: chosen}


def is_empty(entry: Json) -> bool:
    """True when a person left this input blank (what ``optional: false`` forbids)."""
    return all(v in (None, "", [], {}) for k, v in entry.items() if k != "type")


def all_options(element: Json) -> list[Json]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def _option(element: Json, value: Any) -> Json:
    """Find the option a person picked, by its value."""
    if isinstance(value, dict):
        return value
    if element.get("type") in {"external_select", "multi_external_select"}:
        # The app supplies external options at runtime; build the one picked.
        return {"text": {"type": "plain_text", "text": str(value)}, "value": str(value)}
    for option in all_options(element):
        if option.get("value") == value:
            return option
    offered = [o.get("value") for o in all_options(element)]
    raise ValueError(
        f"{element.get('action_id')!r} has no option with value {value!r}; it offers {offered}"
    )
