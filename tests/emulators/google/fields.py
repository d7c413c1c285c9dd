"""Partial responses: the ``fields`` parameter, parsed, checked and applied.

Google's mask grammar: a comma-separated list of fields, where ``a/b`` selects
``b`` inside ``a``, ``a(b,c)`` selects several fields inside ``a`` (inside each
element when ``a`` is a list) and ``*`` selects everything at its level. A
selection is a tree: ``{"files": {"id": None, "owners": {"emailAddress": None}}}``
where None means "the whole value".
"""

from __future__ import annotations

import re
from typing import Any

from .discovery import SchemaNode
from .errors import GoogleApiError

Mask = dict[str, "Mask | None"]
TOKEN = re.compile(r"\s*([A-Za-z0-9_@$.*-]+|[(),/])")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = self._tokenize(text)
        self.pos = 0

    def _tokenize(self, text: str) -> list[str]:
        tokens, at = [], 0
        while at < len(text):
            if text[at:].strip() == "":
                break
            match = TOKEN.match(text, at)
            if not match:
                raise invalid_selection(text)
            tokens.append(match.group(1))
            at = match.end()
        return tokens

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise invalid_selection(self.text)
        self.pos += 1
        return token

    def fields(self) -> Mask:
        mask: Mask = {}
        while True:
            _merge(mask, self.field())
            if self.peek() != ",":
                return mask
            self.take()

    def field(self) -> Mask:
        path = [self.name()]
        while self.peek() == "/":
            self.take()
            path.append(self.name())
        inner: Mask | None = None
        if self.peek() == "(":
            self.take()
            inner = self.fields()
            if self.take() != ")":
                raise invalid_selection(self.text)
        for name in reversed(path):
            inner = {name: inner}
        assert inner is not None
        return inner

    def name(self) -> str:
        token = self.take()
        if token in "(),/":
            raise invalid_selection(self.text)
        return token


def _merge(into: Mask, extra: Mask) -> None:
    for name, sub in extra.items():
        if name not in into:
            into[name] = sub
        elif into[name] is None or sub is None:
            into[name] = None
        else:
            _merge(into[name], sub)  # type: ignore[arg-type]


def invalid_selection(name: str) -> GoogleApiError:
    message = f"Invalid field selection {name}"
    return GoogleApiError(400, "invalidParameter", message, location="fields")


def parse(text: str | None) -> Mask | None:
    """The mask for ``fields=text``; None when the caller gave no mask."""
    if text is None:
        return None
    if not text.strip():
        raise invalid_selection(text)
    parser = _Parser(text)
    mask = parser.fields()
    if parser.peek() is not None:
        raise invalid_selection(text)
    return mask


def validate(mask: Mask | None, node: SchemaNode) -> None:
    """Refuse a mask that names a field the response schema does not have."""
    if mask is None:
        return
    for name, sub in mask.items():
        if name == "*":
            continue
        child = node.child(name)
        if child is None:
            raise invalid_selection(name)
        validate(sub, child)


def select(value: Any, mask: Mask | None) -> Any:
    """``value`` cut down to ``mask``."""
    if mask is None or "*" in mask and len(mask) == 1:
        return value
    if isinstance(value, list):
        return [select(item, mask) for item in value]
    if not isinstance(value, dict):
        return value
    if "*" in mask:
        return {k: select(v, mask.get(k)) for k, v in value.items()}
    return {k: select(value[k], sub) for k, sub in mask.items() if k in value}


def sub(mask: Mask | None, name: str) -> tuple[bool, Mask | None]:
    """Whether ``name`` is selected at this level, and the selection inside it."""
    if mask is None:
        return True, None
    if name in mask:
        return True, mask[name]
    if "*" in mask:
        return True, None
    return False, None
