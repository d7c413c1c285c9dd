"""The policy file: the company's rules for Warden, validated with line numbers.

The file is YAML kept in version control. It is composed into PyYAML nodes
(which remember where they start), turned into plain data while noting the
node behind every key path, and validated by the pydantic models below.
Each pydantic error is mapped back through its `loc` to a node, so every
problem names a file, line and column and says in plain words what was
expected. All problems are reported at once, in line order.
"""

import difflib
import re
import types
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    ValidationError,
)
from pydantic_core import ErrorDetails
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.errors import WardenError
from bot.policy_model import OUR_ERROR_TYPE, Loc, Policy

__all__ = ["Policy", "PolicyError", "Problem", "load_policy", "parse_policy"]

# Problems


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the policy file, at a 1-based line and column."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        if self.line == 0:
            return f"{self.file}: {self.message}"
        return f"{self.file}: line {self.line}, col {self.column}: {self.message}"


class PolicyError(WardenError):
    """The policy file cannot be used; `.problems` lists every reason in line order."""

    code = "bad_policy"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.line, p.column))
        super().__init__("\n".join(str(problem) for problem in self.problems))


# Loading


def load_policy(path: str | PathLike[str]) -> Policy:
    """Read and validate a policy file; raise PolicyError listing every problem."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise PolicyError([Problem(file, 0, 0, f"cannot read it: {error.strerror}")]) from None
    except UnicodeDecodeError:
        raise PolicyError([Problem(file, 0, 0, "cannot read it: not UTF-8 text")]) from None
    return parse_policy(text, file)


def parse_policy(text: str, file: str = "warden.yaml") -> Policy:
    """Validate policy text; `file` is the name problems are reported under."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        raise PolicyError([_syntax_problem(file, text, error)]) from None
    if root is None:
        raise PolicyError(
            [
                Problem(
                    file,
                    1,
                    1,
                    "the policy is empty; expected company, security_channel and analysts at least",
                )
            ]
        )

    tree = _Tree(file)
    data = tree.build(root, ())
    problems = tree.problems
    try:
        policy = Policy.model_validate(data, context={"domains": _domains_as_written(data)})
    except ValidationError as error:
        problems = problems + [tree.problem(details) for details in error.errors()]
    if problems:
        raise PolicyError(problems)
    return policy


def _domains_as_written(data: object) -> list[str] | None:
    company = data.get("company") if isinstance(data, dict) else None
    domains = company.get("domains") if isinstance(company, dict) else None
    if not isinstance(domains, list):
        return None
    return [domain.lower() for domain in domains if isinstance(domain, str)]


def _syntax_problem(file: str, text: str, error: yaml.YAMLError) -> Problem:
    mark = getattr(error, "problem_mark", None)
    if isinstance(error, yaml.MarkedYAMLError) and mark is not None:
        message = f"YAML syntax error: {error.problem}"
        if str(error.problem).startswith("but "):
            message = f"YAML syntax error: {error.context}, {error.problem}"
        if "\\t" in str(error.problem):
            message += " (indent with spaces, not tabs)"
        return Problem(file, mark.line + 1, mark.column + 1, message)

    # A ReaderError (say, a control character) knows only its offset.
    position = getattr(error, "position", 0)
    before = text[:position]
    line, column = before.count("\n") + 1, position - before.rfind("\n")
    return Problem(file, line, column, f"YAML syntax error: {getattr(error, 'reason', error)}")


class _Tree:
    """Plain data built from YAML nodes, remembering the node behind every path."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self._values: dict[Loc, Node] = {}
        self._keys: dict[Loc, Node] = {}
        self._open: set[int] = set()
        self._constructor = SafeConstructor()

    def build(self, node: Node, loc: Loc) -> object:
        if id(node) in self._open:
            self.problems.append(self._at(node, "an alias cannot contain itself"))
            return None

        self._values[loc] = node
        self._open.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, loc)
            if isinstance(node, SequenceNode):
                return [self.build(item, (*loc, index)) for index, item in enumerate(node.value)]
            return self._scalar(node)
        finally:
            self._open.discard(id(node))

    def _mapping(self, node: MappingNode, loc: Loc) -> dict[str, object]:
        # Merge keys (<<) are not expanded: they are reported as unknown keys.
        data: dict[str, object] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.problems.append(self._at(key_node, "expected a plain key name"))
                continue
            # The key as written: YAML 1.1 would otherwise read `on:` as True.
            key = key_node.value
            first = self._keys.get((*loc, key))
            if first is not None:
                line = first.start_mark.line + 1
                message = f"duplicate key '{key}'; it is already set on line {line}"
                self.problems.append(self._at(key_node, message))
                continue
            self._keys[(*loc, key)] = key_node
            data[key] = self.build(value_node, (*loc, key))
        return data

    def _scalar(self, node: ScalarNode) -> object:
        # YAML 1.1 reads 18:00 as the base-60 number 1080; keep what was written.
        if node.tag.endswith((":int", ":float")) and ":" in node.value:
            return node.value
        try:
            return self._constructor.construct_object(node)
        except ConstructorError as error:
            self.problems.append(self._at(node, f"cannot read this value: {error.problem}"))
            return None

    def problem(self, error: ErrorDetails) -> Problem:
        """Place one pydantic error on the node it is about."""
        loc = tuple(error["loc"])
        at = (error.get("ctx") or {}).get("at")
        if at is not None:
            loc = (*loc, *(at if isinstance(at, tuple) else (at,)))

        if error["type"] == "extra_forbidden" and loc in self._keys:
            node = self._keys[loc]
        else:
            # A missing key is placed on the mapping that lacks it.
            node = self._nearest(loc[:-1] if error["type"] == "missing" else loc)
        return self._at(node, _message(error, loc))

    def _nearest(self, loc: Loc) -> Node:
        while loc not in self._values:
            loc = loc[:-1]
        return self._values[loc]

    def _at(self, node: Node, message: str) -> Problem:
        mark = node.start_mark
        return Problem(self.file, mark.line + 1, mark.column + 1, message)


# Messages


def _message(error: ErrorDetails, loc: Loc) -> str:
    """Say in plain words what was expected, instead of pydantic's wording."""
    kind = error["type"]
    if kind == OUR_ERROR_TYPE:
        return error["msg"]
    if kind == "missing":
        return f"missing required key '{loc[-1]}'"
    if kind == "extra_forbidden":
        return _unknown("key", str(loc[-1]), sorted(_keys_at(loc[:-1])))
    if kind == "literal_error":
        return _unknown("value", str(error["input"]), [str(a) for a in get_args(_type_at(loc))])
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "expected a mapping with the keys " + ", ".join(_keys_at(loc))
    if kind.startswith("bool_"):
        return "expected true or false"
    if kind.startswith("int_"):
        return "expected a whole number"
    if kind == "string_type":
        return "expected text"
    return re.sub(r"^Input should be", "expected", error["msg"])


def _unknown(noun: str, word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown {noun} '{word}'{hint}; expected one of: {', '.join(choices)}"


def _keys_at(loc: Loc) -> list[str]:
    model = _type_at(loc)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _type_at(loc: Loc) -> Any:
    """The annotation the Policy model has at a pydantic `loc`, wrappers removed."""
    kind: Any = Policy
    for part in loc:
        kind = _unwrap(kind)
        if isinstance(part, int):
            kind = (get_args(kind) or (None,))[0]
        elif isinstance(kind, type) and issubclass(kind, BaseModel) and part in kind.model_fields:
            kind = kind.model_fields[part].annotation
        else:
            return None
    return _unwrap(kind)


def _unwrap(kind: Any) -> Any:
    while True:
        origin = get_origin(kind)
        if origin is Annotated:
            kind = get_args(kind)[0]
        elif origin in (Union, types.UnionType):
            kind = next(arg for arg in get_args(kind) if arg is not type(None))
        else:
            return kind
