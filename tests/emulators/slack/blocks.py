"""Block Kit validation that refuses what Slack refuses, in Slack's words.

Each check returns errors shaped like Slack's ``response_metadata.messages``:
``[ERROR] must be less than 151 characters [json-pointer:/blocks/0/text/text]``.
Limits follow docs.slack.dev's Block Kit reference. The wording of a few
messages (marked below) is ours where Slack's exact sentence is not documented.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}
MAX_MESSAGE_TEXT = 40_000
BLOCK_TYPES = {
    "section", "actions", "context", "divider", "header", "image", "input",
    "rich_text", "markdown",
}
SELECTS = {
    "static_select", "external_select", "users_select", "conversations_select",
    "channels_select",
}
MULTI_SELECTS = {f"multi_{name}" for name in SELECTS}
CHOICES = {"checkboxes", "radio_buttons", "overflow"}
PICKERS = {"datepicker", "timepicker", "datetimepicker"}
TEXT_INPUTS = {
    "plain_text_input", "email_text_input", "url_text_input", "number_input",
    "rich_text_input", "file_input",
}
ACTION_ELEMENTS = {"button"} | SELECTS | MULTI_SELECTS | CHOICES | PICKERS
ACCESSORIES = ACTION_ELEMENTS - {"datetimepicker"} | {"image"}
INPUT_ELEMENTS = SELECTS | MULTI_SELECTS | PICKERS | TEXT_INPUTS | {"checkboxes", "radio_buttons"}
INTERACTIVE = ACTION_ELEMENTS | TEXT_INPUTS
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Json = dict[str, Any]


class _Checker:
    """Collects errors and the ids that must be unique.

    block_id is unique within a message or view. Slack's reference asks an
    action_id to be unique only within its block ("unique among all other
    action_ids in the containing block"), which is why modals can reuse one
    action_id in every input block. In messages we hold apps to unique
    action_ids across the whole message: an interaction payload names the
    action_id, and a message that repeats one cannot tell its buttons apart.
    """

    def __init__(self, action_ids_per_block: bool = True) -> None:
        self.errors: list[str] = []
        self.block_ids: set[str] = set()
        self.action_ids: set[str] = set()
        self.action_ids_per_block = action_ids_per_block

    def error(self, message: str, pointer: str) -> None:
        self.errors.append(f"[ERROR] {message} [json-pointer:{pointer}]")

    def length(self, value: Any, pointer: str, most: int, *, least: int = 1) -> None:
        if not isinstance(value, str):
            self.error("must provide a string", pointer)
        elif len(value) < least:
            self.error(f"must be more than {least - 1} characters", pointer)
        elif len(value) > most:
            self.error(f"must be less than {most + 1} characters", pointer)

    def items(self, value: Any, pointer: str, most: int, *, least: int = 1) -> bool:
        """Check an array's size; False when it is not an array at all."""
        if not isinstance(value, list):
            self.error("must provide an array", pointer)
            return False
        if len(value) < least:
            self.error(f"must provide at least {least} items", pointer)
        if len(value) > most:
            self.error(f"no more than {most} items allowed", pointer)
        return True

    def enum(self, value: Any, allowed: tuple[str, ...], pointer: str) -> None:
        if value not in allowed:
            self.error("must be a valid enum value", pointer)


def message_error(text: Any, blocks: Any) -> str | None:
    """The API error code for a message body that is not blocks-related."""
    if not text and not blocks:
        return "no_text"
    if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
        return "msg_too_long"
    return None


def validate_blocks(blocks: Any, surface: str = "message", pointer: str = "/blocks") -> list[str]:
    """Errors for a message's (or a view's) ``blocks`` array; empty when valid."""
    checker = _Checker(action_ids_per_block=surface != "message")
    _check_blocks(checker, blocks, surface, pointer)
    return checker.errors


def validate_view(view: Any) -> list[str]:
    """Errors for the ``view`` argument of views.open/push/update/publish."""
    checker = _Checker()
    if not isinstance(view, dict):
        checker.error("must provide an object", "/view")
        return checker.errors
    kind = view.get("type")
    if kind is None:
        checker.error("missing required field: type", "/view")
        return checker.errors
    checker.enum(kind, ("modal", "home"), "/view/type")
    if kind == "modal":
        _check_modal_chrome(checker, view)
    for key, most in (("callback_id", 255), ("external_id", 255), ("private_metadata", 3000)):
        if view.get(key) not in (None, ""):
            checker.length(view[key], f"/view/{key}", most)
    if view.get("blocks") is None:
        checker.error("missing required field: blocks", "/view")
    elif kind in MAX_BLOCKS:
        _check_blocks(checker, view.get("blocks"), kind, "/view/blocks")
    return checker.errors


def fill_ids(blocks: list[Json], new_id: Callable[[str, int], str]) -> list[Json]:
    """Copy blocks, giving each block and element the id Slack generates when absent."""
    filled = copy.deepcopy(blocks)
    for block in filled:
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", new_id("", 5))
        for element in block_elements(block):
            if element.get("type") in INTERACTIVE:
                element.setdefault("action_id", new_id("", 5))
    return filled


def block_elements(block: Json) -> list[Json]:
    """The interactive-capable elements of one block, wherever they sit."""
    found = list(block.get("elements") or []) if block.get("type") == "actions" else []
    for key in ("accessory", "element"):
        if isinstance(block.get(key), dict):
            found.append(block[key])
    return [element for element in found if isinstance(element, dict)]


def _check_blocks(checker: _Checker, blocks: Any, surface: str, pointer: str) -> None:
    if blocks is None:
        return
    if not checker.items(blocks, pointer, MAX_BLOCKS[surface], least=0):
        return
    for index, block in enumerate(blocks):
        _check_block(checker, block, f"{pointer}/{index}")


def _check_modal_chrome(checker: _Checker, view: Json) -> None:
    _text(checker, view.get("title"), "/view/title", 24, plain=True)
    for key in ("submit", "close"):
        if view.get(key) is not None:
            _text(checker, view[key], f"/view/{key}", 24, plain=True)
    has_input = any(
        isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or []
    )
    if has_input and view.get("submit") is None:
        # Our wording: Slack refuses a modal with inputs but no submit button.
        checker.error("must provide submit when the view has input blocks", "/view/submit")


def _check_block(checker: _Checker, block: Any, pointer: str) -> None:
    if not isinstance(block, dict):
        checker.error("must provide an object", pointer)
        return
    kind = block.get("type")
    if kind not in BLOCK_TYPES:
        checker.error(f"unsupported type: {kind}", f"{pointer}/type")
        return
    _check_block_id(checker, block, pointer)
    if checker.action_ids_per_block:
        checker.action_ids = set()
    BLOCK_CHECKS[kind](checker, block, pointer)


def _check_block_id(checker: _Checker, block: Json, pointer: str) -> None:
    block_id = block.get("block_id")
    if block_id is None:
        return
    checker.length(block_id, f"{pointer}/block_id", 255)
    if block_id in checker.block_ids:
        # Our wording; Slack answers a repeated block_id with invalid_blocks.
        checker.error(f"duplicate block_id: {block_id}", f"{pointer}/block_id")
    checker.block_ids.add(block_id)


def _section(checker: _Checker, block: Json, pointer: str) -> None:
    if block.get("text") is None and block.get("fields") is None:
        checker.error("must provide either text or fields", pointer)
    if block.get("text") is not None:
        _text(checker, block["text"], f"{pointer}/text", 3000)
    fields = block.get("fields")
    if fields is not None and checker.items(fields, f"{pointer}/fields", 10):
        for index, item in enumerate(fields):
            _text(checker, item, f"{pointer}/fields/{index}", 2000)
    if block.get("accessory") is not None:
        _element(checker, block["accessory"], f"{pointer}/accessory", ACCESSORIES)


def _actions(checker: _Checker, block: Json, pointer: str) -> None:
    elements = block.get("elements")
    if checker.items(elements, f"{pointer}/elements", 25):
        for index, element in enumerate(elements):
            _element(checker, element, f"{pointer}/elements/{index}", ACTION_ELEMENTS)


def _context(checker: _Checker, block: Json, pointer: str) -> None:
    elements = block.get("elements")
    if not checker.items(elements, f"{pointer}/elements", 10):
        return
    for index, element in enumerate(elements):
        at = f"{pointer}/elements/{index}"
        if isinstance(element, dict) and element.get("type") == "image":
            _image(checker, element, at)
        else:
            _text(checker, element, at, 3000)


def _header(checker: _Checker, block: Json, pointer: str) -> None:
    _text(checker, block.get("text"), f"{pointer}/text", 150, plain=True)


def _image(checker: _Checker, block: Json, pointer: str) -> None:
    if block.get("image_url") is None and block.get("slack_file") is None:
        checker.error("missing required field: image_url", pointer)
    elif block.get("image_url") is not None:
        checker.length(block["image_url"], f"{pointer}/image_url", 3000)
    checker.length(block.get("alt_text"), f"{pointer}/alt_text", 2000)
    if block.get("title") is not None:
        _text(checker, block["title"], f"{pointer}/title", 2000, plain=True)


def _input(checker: _Checker, block: Json, pointer: str) -> None:
    _text(checker, block.get("label"), f"{pointer}/label", 2000, plain=True)
    if block.get("hint") is not None:
        _text(checker, block["hint"], f"{pointer}/hint", 2000, plain=True)
    if block.get("element") is None:
        checker.error("missing required field: element", pointer)
    else:
        _element(checker, block["element"], f"{pointer}/element", INPUT_ELEMENTS)


def _rich_text(checker: _Checker, block: Json, pointer: str) -> None:
    checker.items(block.get("elements"), f"{pointer}/elements", 1000, least=0)


def _markdown(checker: _Checker, block: Json, pointer: str) -> None:
    checker.length(block.get("text"), f"{pointer}/text", 12_000)


def _divider(checker: _Checker, block: Json, pointer: str) -> None:
    """A divider has nothing to check beyond its block_id."""


BLOCK_CHECKS: dict[str, Callable[[_Checker, Json, str], None]] = {
    "section": _section, "actions": _actions, "context": _context, "divider": _divider,
    "header": _header, "image": _image, "input": _input, "rich_text": _rich_text,
    "markdown": _markdown,
}


def _text(
    checker: _Checker, obj: Any, pointer: str, most: int, *, plain: bool = False
) -> None:
    """A text object; ``plain`` where Slack accepts only plain_text."""
    if obj is None:
        checker.error("must provide an object", pointer)
        return
    if not isinstance(obj, dict):
        checker.error("must provide an object", pointer)
        return
    allowed = ("plain_text",) if plain else ("plain_text", "mrkdwn")
    if obj.get("type") is None:
        checker.error("missing required field: type", pointer)
    else:
        checker.enum(obj.get("type"), allowed, f"{pointer}/type")
    if "text" not in obj:
        checker.error("missing required field: text", pointer)
    else:
        checker.length(obj["text"], f"{pointer}/text", most)


def _element(checker: _Checker, element: Any, pointer: str, allowed: set[str]) -> None:
    if not isinstance(element, dict):
        checker.error("must provide an object", pointer)
        return
    kind = element.get("type")
    if kind not in allowed:
        checker.error(f"unsupported type: {kind}", f"{pointer}/type")
        return
    if kind == "image":
        _image(checker, element, pointer)
        return
    _check_action_id(checker, element, pointer)
    if element.get("confirm") is not None:
        _confirm(checker, element["confirm"], f"{pointer}/confirm")
    if element.get("placeholder") is not None:
        _text(checker, element["placeholder"], f"{pointer}/placeholder", 150, plain=True)
    if kind == "button":
        _button(checker, element, pointer)
    elif kind in SELECTS | MULTI_SELECTS | CHOICES:
        _options_of(checker, element, pointer)
    elif kind == "datepicker" and element.get("initial_date") is not None:
        if not DATE.match(str(element["initial_date"])):
            checker.error("must be a valid date (YYYY-MM-DD)", f"{pointer}/initial_date")
    elif kind == "plain_text_input" and element.get("initial_value") is not None:
        checker.length(element["initial_value"], f"{pointer}/initial_value", 3000, least=0)


def _check_action_id(checker: _Checker, element: Json, pointer: str) -> None:
    action_id = element.get("action_id")
    if action_id is None:
        return
    checker.length(action_id, f"{pointer}/action_id", 255)
    if action_id in checker.action_ids:
        # Our wording; Slack refuses two elements with one action_id in a block.
        checker.error(f"duplicate action_id: {action_id}", f"{pointer}/action_id")
    checker.action_ids.add(action_id)


def _button(checker: _Checker, element: Json, pointer: str) -> None:
    _text(checker, element.get("text"), f"{pointer}/text", 75, plain=True)
    if element.get("value") is not None:
        checker.length(element["value"], f"{pointer}/value", 2000)
    if element.get("url") is not None:
        checker.length(element["url"], f"{pointer}/url", 3000)
    if element.get("style") is not None:
        checker.enum(element["style"], ("primary", "danger"), f"{pointer}/style")
    if element.get("accessibility_label") is not None:
        checker.length(element["accessibility_label"], f"{pointer}/accessibility_label", 75)


def _confirm(checker: _Checker, confirm: Any, pointer: str) -> None:
    if not isinstance(confirm, dict):
        checker.error("must provide an object", pointer)
        return
    _text(checker, confirm.get("title"), f"{pointer}/title", 100, plain=True)
    _text(checker, confirm.get("text"), f"{pointer}/text", 300)
    _text(checker, confirm.get("confirm"), f"{pointer}/confirm", 30, plain=True)
    _text(checker, confirm.get("deny"), f"{pointer}/deny", 30, plain=True)
    if confirm.get("style") is not None:
        checker.enum(confirm["style"], ("primary", "danger"), f"{pointer}/style")


def _options_of(checker: _Checker, element: Json, pointer: str) -> None:
    kind = element["type"]
    if kind in {"static_select", "multi_static_select"}:
        if element.get("options") is None and element.get("option_groups") is None:
            checker.error("must provide either options or option_groups", pointer)
        for group_index, group in enumerate(element.get("option_groups") or []):
            at = f"{pointer}/option_groups/{group_index}"
            _text(checker, group.get("label"), f"{at}/label", 75, plain=True)
            _options(checker, group.get("options"), f"{at}/options", 100, plain=True)
    most = {"overflow": 5, "checkboxes": 10, "radio_buttons": 10}.get(kind, 100)
    least = 2 if kind == "overflow" else 1
    if kind in CHOICES or element.get("options") is not None:
        plain = kind not in {"checkboxes", "radio_buttons"}
        _options(checker, element.get("options"), f"{pointer}/options", most, plain, least)


def _options(
    checker: _Checker, options: Any, pointer: str, most: int, plain: bool, least: int = 1
) -> None:
    if not checker.items(options, pointer, most, least=least):
        return
    for index, option in enumerate(options):
        at = f"{pointer}/{index}"
        if not isinstance(option, dict):
            checker.error("must provide an object", at)
            continue
        _text(checker, option.get("text"), f"{at}/text", 75, plain=plain)
        checker.length(option.get("value"), f"{at}/value", 150)
        if option.get("description") is not None:
            _text(checker, option["description"], f"{at}/description", 75, plain=plain)
