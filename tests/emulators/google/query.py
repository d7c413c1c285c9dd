"""The part of Drive's ``q`` search language that Warden uses.

Supported terms, joined with ``and``::

    'someone@example.com' in owners      'me' in owners
    'folderId' in parents
    trashed = false                      trashed != true
    mimeType = 'application/pdf'         mimeType != 'application/vnd.google-apps.folder'

Strings are single-quoted; ``\\'`` and ``\\\\`` escape inside them. Anything
else (``or``, ``not``, parentheses, other fields) gets Drive's 400 "Invalid
Value" on ``q``, so a query the emulator cannot evaluate never passes silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import GoogleApiError, invalid_value

TOKEN = re.compile(r"\s*(?:'((?:[^'\\]|\\.)*)'|(!=|=)|([A-Za-z]+))")


@dataclass
class Query:
    owners: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    trashed: bool | None = None
    mime_types: list[str] = field(default_factory=list)
    not_mime_types: list[str] = field(default_factory=list)

    def matches_mime(self, mime_type: str) -> bool:
        if any(mime_type != wanted for wanted in self.mime_types):
            return False
        return mime_type not in self.not_mime_types


def _tokens(text: str) -> list[tuple[str, str]]:
    """(kind, value) pairs: kind is 'str', 'op' or 'word'."""
    found, at = [], 0
    while text[at:].strip():
        match = TOKEN.match(text, at)
        if not match:
            raise invalid_q()
        quoted, op, word = match.groups()
        if quoted is not None:
            found.append(("str", re.sub(r"\\(.)", r"\1", quoted)))
        elif op is not None:
            found.append(("op", op))
        else:
            found.append(("word", word))
        at = match.end()
    return found


def invalid_q() -> GoogleApiError:
    return invalid_value("q")


def parse(text: str | None, me: str) -> Query:
    """The query ``text`` run by ``me`` (whose email replaces ``'me'``)."""
    query = Query()
    if text is None or not text.strip():
        return query
    tokens = _tokens(text)
    at = 0
    while True:
        at = _clause(tokens, at, query, me)
        if at == len(tokens):
            return query
        if tokens[at] not in (("word", "and"), ("word", "AND")):
            raise invalid_q()
        at += 1


def _clause(tokens: list[tuple[str, str]], at: int, query: Query, me: str) -> int:
    part = tokens[at:at + 3]
    if len(part) < 3:
        raise invalid_q()
    (k1, v1), (k2, v2), (k3, v3) = part
    if k1 == "str" and (k2, v2) == ("word", "in") and k3 == "word":
        if v3 == "owners":
            query.owners.append(me if v1 == "me" else v1.lower())
        elif v3 == "parents":
            query.parents.append(v1)
        else:
            raise invalid_q()
    elif (k1, v1) == ("word", "trashed") and k2 == "op" and k3 == "word":
        if v3 not in ("true", "false"):
            raise invalid_q()
        query.trashed = (v3 == "true") == (v2 == "=")
    elif (k1, v1) == ("word", "mimeType") and k2 == "op" and k3 == "str":
        (query.mime_types if v2 == "=" else query.not_mime_types).append(v3)
    else:
        raise invalid_q()
    return at + 3
