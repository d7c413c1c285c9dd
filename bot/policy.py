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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time, timedelta
from os import PathLike
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn, Union, get_args, get_origin

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    WrapValidator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.durations import DURATION_HINT, format_duration, parse_duration
from bot.errors import WardenError

Loc = tuple[str | int, ...]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DriveRole = Literal["reader", "commenter", "writer"]
GithubRole = Literal["pull", "triage", "push"]

# The error type of every message written here; other types are pydantic's.
_OURS = "warden_policy"
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_CHANNEL = re.compile(r"^(#[a-z0-9_-]{1,80}|[CG][A-Z0-9]+)$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]+$")
_EMAIL = re.compile(r"^[^@\s]+@([^@\s]+)$")
_GITHUB_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


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


# Values


def _fail(message: str, at: str | int | Loc | None = None) -> NoReturn:
    """Raise a message written for people; `at` points below the failing value."""
    raise PydanticCustomError(_OURS, message, None if at is None else {"at": at})


def _show(value: object) -> str:
    return format_duration(value) if isinstance(value, timedelta) else repr(value)


def _duration(value: object) -> timedelta:
    if isinstance(value, timedelta) and value > timedelta(0):
        return value
    try:
        return parse_duration(value if isinstance(value, str) else "")
    except ValueError:
        _fail(DURATION_HINT)


def _clock(value: object) -> time:
    if isinstance(value, time):
        return value
    match = _CLOCK.match(value) if isinstance(value, str) else None
    if match is None:
        _fail("expected a time of day like 09:00 (24-hour clock)")
    return time(int(match[1]), int(match[2]))


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        _fail("expected text")
    return value


def _domain(value: object) -> str:
    if isinstance(value, str) and value != value.lower():
        _fail(f"domain names are written in lowercase: {value.lower()}")
    if not isinstance(value, str) or not _DOMAIN.match(value):
        _fail("expected a domain name like example.com")
    return value


def _channel(value: object) -> str:
    if not isinstance(value, str) or not _CHANNEL.match(value):
        _fail("expected a Slack channel id (C…) or a channel name like #security")
    return value


def _company_email(email: str, info: ValidationInfo) -> str:
    """Lowercase an email and check it is in a company domain, once those are known."""
    email = email.lower()
    company = info.data.get("company")
    # When the company section itself has a problem, check against the domains
    # as written (passed in the context) so this problem is not hidden until then.
    domains = company.domains if company else (info.context or {}).get("domains")
    if domains is not None and email.split("@", 1)[1] not in domains:
        _fail(f"{email} is not in a company domain ({', '.join(domains)})")
    return email


def _analyst(value: object, info: ValidationInfo) -> str:
    if isinstance(value, str) and _USER_ID.match(value):
        return value
    if not isinstance(value, str) or not _EMAIL.match(value):
        _fail("expected a Slack user id (U…) or a company email")
    return _company_email(value, info)


def _email(value: object, info: ValidationInfo) -> str:
    if not isinstance(value, str) or not _EMAIL.match(value):
        _fail("expected a company email like alice@example.com")
    return _company_email(value, info)


def _github_name(value: object) -> str:
    if not isinstance(value, str) or not _GITHUB_NAME.match(value):
        _fail("expected a GitHub name like octocat (letters, digits and single hyphens)")
    return value


def _severity(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3:
        _fail("expected a Suricata severity: 1 (most severe), 2 or 3")
    return value


def _list_of(expected: str, at_least_one: bool = False) -> WrapValidator:
    """A list, maybe non-empty, with no entry twice; `expected` names the entries."""

    def check(value: object, handler: Callable[[object], list[Any]]) -> list[Any]:
        if not isinstance(value, list | tuple) or (at_least_one and not value):
            _fail(f"expected {expected}" + (" (at least one)" if at_least_one else ""))
        items = handler(list(value))
        for index, item in enumerate(items):
            if item in items[:index]:
                _fail(f"{_show(item)} is listed twice", at=index)
        return items

    return WrapValidator(check)


def _increasing(cadence: list[timedelta]) -> list[timedelta]:
    for index in range(1, len(cadence)):
        if cadence[index] <= cadence[index - 1]:
            earlier, later = format_duration(cadence[index - 1]), format_duration(cadence[index])
            _fail(f"cadence must increase: {later} comes after {earlier}", at=index)
    return cadence


Duration = Annotated[
    timedelta, PlainValidator(_duration), PlainSerializer(format_duration, when_used="json")
]
ClockTime = Annotated[
    time, PlainValidator(_clock), PlainSerializer(lambda t: t.strftime("%H:%M"), when_used="json")
]
Text = Annotated[str, PlainValidator(_text)]
Domain = Annotated[str, PlainValidator(_domain)]
Domains = Annotated[list[Domain], _list_of("a list of domain names like [example.com]")]
Cadence = Annotated[
    list[Duration],
    _list_of("a list of durations like [1d, 3d, 7d]", at_least_one=True),
    AfterValidator(_increasing),
]


# Models


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Company(_Section):
    name: Text
    domains: Annotated[
        list[Domain], _list_of("a list of domain names like [example.com]", at_least_one=True)
    ]


class Person(_Section):
    email: Annotated[str, PlainValidator(_email)]
    github: Annotated[str, PlainValidator(_github_name)]


class WorkingHours(_Section):
    start: ClockTime = time(9)
    end: ClockTime = time(18)
    days: Annotated[list[Day], _list_of("a list of days like [mon, tue]", True)] = [
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
    ]

    @model_validator(mode="after")
    def _end_after_start(self) -> "WorkingHours":
        if self.end <= self.start:
            _fail("working hours must end after they start", at="end")
        return self


class Reminders(_Section):
    cadence: Cadence = [timedelta(days=1), timedelta(days=3), timedelta(days=7)]
    escalate_after_last: bool = True


class DriveScanner(_Section):
    enabled: bool = False
    every: Duration = timedelta(hours=4)
    full_scan_every: Duration = timedelta(days=7)

    @model_validator(mode="after")
    def _full_scan_not_more_often(self) -> "DriveScanner":
        if self.full_scan_every < self.every:
            _fail(
                "a full scan cannot run more often than the scans in between", at="full_scan_every"
            )
        return self


class GithubScanner(_Section):
    enabled: bool = False
    every: Duration = timedelta(hours=4)
    org: Annotated[str, PlainValidator(_github_name)] | None = None

    @model_validator(mode="after")
    def _org_when_enabled(self) -> "GithubScanner":
        if self.enabled and self.org is None:
            _fail("the GitHub scanner needs org: the organization to scan", at="org")
        return self


class Scanners(_Section):
    drive: DriveScanner = DriveScanner()
    github: GithubScanner = GithubScanner()


class DriveGrants(_Section):
    max_duration: Duration = timedelta(days=30)
    roles: Annotated[list[DriveRole], _list_of("a list of Drive roles", True)] = [
        "reader",
        "commenter",
        "writer",
    ]


class GithubGrants(_Section):
    max_duration: Duration = timedelta(days=7)
    roles: Annotated[list[GithubRole], _list_of("a list of GitHub roles", True)] = [
        "pull",
        "triage",
        "push",
    ]


class Grants(_Section):
    enabled: bool = False
    drive: DriveGrants = DriveGrants()
    github: GithubGrants = GithubGrants()
    allowed_domains: Domains = []
    denied_domains: Domains = []
    remind_before_expiry: Duration = timedelta(days=1)

    @model_validator(mode="after")
    def _allowed_or_denied(self) -> "Grants":
        for index, domain in enumerate(self.denied_domains):
            if domain in self.allowed_domains:
                _fail(f"{domain} is both allowed and denied", at=("denied_domains", index))
        return self


class Suricata(_Section):
    eve_path: Text | None = None
    min_severity: Annotated[int, PlainValidator(_severity)] = 2


class Incidents(_Section):
    enabled: bool = False
    kinds: Annotated[list[Text], _list_of("a list of incident kinds", True)] = [
        "phishing email",
        "suspicious file",
        "suspicious access",
        "lost device",
        "other",
    ]
    suricata: Suricata = Suricata()
    follow_up_cadence: Cadence = [timedelta(days=1), timedelta(days=3)]


class Policy(_Section):
    """The whole policy file. Field order matters: analysts are checked against company."""

    company: Company
    security_channel: Annotated[str, PlainValidator(_channel)]
    analysts: Annotated[
        list[Annotated[str, PlainValidator(_analyst)]],
        _list_of("a list of Slack user ids (U…) or company emails", at_least_one=True),
    ]
    people: Annotated[list[Person], _list_of("a list of people with email and github")] = []
    working_hours: WorkingHours = WorkingHours()
    reminders: Reminders = Reminders()
    scanners: Scanners = Scanners()
    grants: Grants = Grants()
    incidents: Incidents = Incidents()

    def analyst_ids(self) -> list[str]:
        """Analysts named by Slack user id."""
        return [analyst for analyst in self.analysts if "@" not in analyst]

    def analyst_emails(self) -> list[str]:
        """Analysts named by email; the bot looks these up in Slack to get their ids."""
        return [analyst for analyst in self.analysts if "@" in analyst]

    def is_analyst_id(self, slack_user_id: str) -> bool:
        """Whether the policy names this Slack user id (not resolved emails) as an analyst."""
        return slack_user_id in self.analyst_ids()


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
    if kind == _OURS:
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
