"""The policy's shape: pydantic models of every section and the checks on each value.

Messages raised here are written for the person editing the file; the loader
in `bot.policy` puts a file, line and column in front of each.
"""

import re
from collections.abc import Callable
from datetime import time, timedelta
from typing import Annotated, Any, Literal, NoReturn

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    PlainSerializer,
    PlainValidator,
    ValidationInfo,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.durations import DURATION_HINT, format_duration, parse_duration

Loc = tuple[str | int, ...]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DriveRole = Literal["reader", "commenter", "writer"]
GithubRole = Literal["pull", "triage", "push"]
Severity = Literal["low", "medium", "high", "critical"]
LinkFix = Literal["restrict_to_domain", "remove"]

# Consumer mail domains: a share with one of these is a share with a person,
# not with a partner company.
PERSONAL_DOMAINS = [
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
]


# The error type of every message written here; other types are pydantic's.
OUR_ERROR_TYPE = "warden_policy"
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_CHANNEL = re.compile(r"^(#[a-z0-9_-]{1,80}|[CG][A-Z0-9]+)$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]+$")
_EMAIL = re.compile(r"^[^@\s]+@([^@\s]+)$")
_GITHUB_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_DRIVE_ID = re.compile(r"^[A-Za-z0-9_-]{10,}$")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


# Values


def _fail(message: str, at: str | int | Loc | None = None) -> NoReturn:
    """Raise a message written for people; `at` points below the failing value."""
    raise PydanticCustomError(OUR_ERROR_TYPE, message, None if at is None else {"at": at})


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


def _repository(value: object) -> str:
    if not isinstance(value, str) or value.count("/") != 1:
        _fail(f"expected a GitHub repository like acme/security, got {_show(value)}")
    owner, name = value.split("/")
    _github_name(owner)
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,100}", name):
        _fail(f"expected a GitHub repository like acme/security, got {_show(value)}")
    return value


def _severity(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3:
        _fail("expected a Suricata severity: 1 (most severe), 2 or 3")
    return value


def _drive_id(value: object) -> str:
    if not isinstance(value, str) or not _DRIVE_ID.match(value):
        _fail(f"expected a Google Drive file or folder id, got {_show(value)}")
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


class DriveRule(_Section):
    enabled: bool = True
    # None means the rule's own default, so `{enabled: false}` alone is enough.
    severity: Severity | None = None


class DriveRules(_Section):
    public_on_web: DriveRule = DriveRule()
    anyone_with_link: DriveRule = DriveRule()
    outside_domain: DriveRule = DriveRule()
    outside_user: DriveRule = DriveRule()
    personal_account: DriveRule = DriveRule()

    def severity_of(self, name: str) -> Severity:
        chosen = getattr(self, name).severity
        return chosen or DRIVE_RULE_SEVERITY[name]


DRIVE_RULE_SEVERITY: dict[str, Severity] = {
    "public_on_web": "critical",
    "anyone_with_link": "high",
    "outside_domain": "high",
    "outside_user": "medium",
    "personal_account": "medium",
}

DriveIds = Annotated[
    list[Annotated[str, PlainValidator(_drive_id)]],
    _list_of("a list of Drive ids like [1AbCdEfGhIjK]"),
]
OwnerEmails = Annotated[
    list[Annotated[str, PlainValidator(_email)]],
    _list_of("a list of company emails like [alice@example.com]"),
]


class DriveExclusions(_Section):
    files: DriveIds = []
    folders: DriveIds = []
    owners: OwnerEmails = []


class DriveScanner(_Section):
    enabled: bool = False
    every: Duration = timedelta(hours=4)
    full_scan_every: Duration = timedelta(days=7)
    allowed_domains: Domains = []
    personal_domains: Domains = PERSONAL_DOMAINS
    link_fix: LinkFix = "restrict_to_domain"
    max_exception: Duration = timedelta(days=90)
    rules: DriveRules = DriveRules()
    exclude: DriveExclusions = DriveExclusions()

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


Approver = Literal["owner", "analyst"]


class AutoApprove(_Section):
    """Requests this small are applied without waiting for anyone."""

    roles: list[str] = []
    max_duration: Duration = timedelta(days=1)


class DriveAutoApprove(AutoApprove):
    roles: Annotated[list[DriveRole], _list_of("a list of Drive roles")] = []


class GithubAutoApprove(AutoApprove):
    roles: Annotated[list[GithubRole], _list_of("a list of GitHub roles")] = []


class DriveGrants(_Section):
    max_duration: Duration = timedelta(days=30)
    roles: Annotated[list[DriveRole], _list_of("a list of Drive roles", True)] = [
        "reader",
        "commenter",
        "writer",
    ]
    approver: Approver = "owner"
    notify_grantee: bool = True
    auto_approve: DriveAutoApprove = DriveAutoApprove()


class GithubGrants(_Section):
    max_duration: Duration = timedelta(days=7)
    roles: Annotated[list[GithubRole], _list_of("a list of GitHub roles", True)] = [
        "pull",
        "triage",
        "push",
    ]
    approver: Approver = "owner"
    auto_approve: GithubAutoApprove = GithubAutoApprove()


class Grants(_Section):
    enabled: bool = False
    drive: DriveGrants = DriveGrants()
    github: GithubGrants = GithubGrants()
    allowed_domains: Domains = []
    denied_domains: Domains = []
    remind_before_expiry: Duration = timedelta(days=1)
    request_timeout: Duration = timedelta(days=2)

    @model_validator(mode="after")
    def _allowed_or_denied(self) -> "Grants":
        for index, domain in enumerate(self.denied_domains):
            if domain in self.allowed_domains:
                _fail(f"{domain} is both allowed and denied", at=("denied_domains", index))
        return self


class Suricata(_Section):
    eve_path: Text | None = None
    min_severity: Annotated[int, PlainValidator(_severity)] = 2


class IpBlocking(_Section):
    """The AWS WAFv2 IP set that Block IP adds addresses to."""

    ip_set_name: Text
    ip_set_id: Text
    scope: Literal["REGIONAL", "CLOUDFRONT"] = "REGIONAL"
    region: Text = "us-east-1"
    expiry: Duration | None = None


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
    dedup_window: Duration = timedelta(hours=1)
    follow_up_cadence: Cadence = [timedelta(days=1), timedelta(days=3)]
    ticket_repository: Annotated[str, PlainValidator(_repository)] | None = None
    block_ips: IpBlocking | None = None
    intel_cache_ttl: Duration = timedelta(days=1)
    digest_day: Day = "mon"


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
