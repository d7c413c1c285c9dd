"""The policy file: loading, defaults, and problems that point to the line."""

import textwrap
import types
import typing
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml

from bot.policy import Policy, PolicyError, Problem, load_policy, parse_policy

REPO = Path(__file__).parents[2]
POLICIES = Path(__file__).parent / "policies"

HEAD = """\
company:
  name: Example Inc
  domains: [example.com]
security_channel: "#security"
analysts: [U0123ABCDE]
"""


def problems_in(text: str) -> list[Problem]:
    """Validate dedented policy text and return its problems."""
    with pytest.raises(PolicyError) as caught:
        parse_policy(textwrap.dedent(text), "warden.yaml")
    return caught.value.problems


def where(problem: Problem) -> tuple[int, int]:
    return problem.line, problem.column


def keys_of(model: type[pydantic.BaseModel], prefix: str = "") -> set[str]:
    """Every key path a model accepts, nested sections included."""
    keys = set()
    for name, field in model.model_fields.items():
        keys.add(prefix + name)
        # A section that is off unless given (`X | None`) is shown with its keys too.
        optional = isinstance(field.annotation, types.UnionType)
        candidates = typing.get_args(field.annotation) if optional else (field.annotation,)
        for candidate in candidates:
            if isinstance(candidate, type) and issubclass(candidate, pydantic.BaseModel):
                keys |= keys_of(candidate, f"{prefix}{name}.")
    return keys


def keys_in(data: dict[str, Any], prefix: str = "") -> set[str]:
    keys = set()
    for name, value in data.items():
        keys.add(prefix + name)
        if isinstance(value, dict):
            keys |= keys_in(value, f"{prefix}{name}.")
    return keys


# The example policy


def test_example_policy_loads() -> None:
    """The commented warden.yaml at the repository root is a valid policy."""
    policy = load_policy(REPO / "warden.yaml")

    assert policy.company.domains == ["example.com"]
    assert policy.security_channel == "#security"
    assert policy.scanners.drive.every == timedelta(hours=4)


def test_example_policy_shows_every_key() -> None:
    """The example sets every key the policy has, so it documents them all."""
    data = yaml.safe_load((REPO / "warden.yaml").read_text())

    shown = keys_in(data)

    assert shown == keys_of(Policy)


def test_minimal_policy_takes_defaults() -> None:
    """A policy with only the required keys gets the documented defaults."""
    policy = load_policy(POLICIES / "minimal.yaml")

    assert policy.working_hours.start == time(9)
    assert policy.working_hours.days == ["mon", "tue", "wed", "thu", "fri"]
    assert policy.reminders.cadence == [timedelta(days=d) for d in (1, 3, 7)]
    assert policy.grants.drive.max_duration == timedelta(days=30)
    assert policy.incidents.suricata.min_severity == 2
    assert not policy.grants.enabled
    assert policy.people == []


def test_policy_round_trips_through_yaml() -> None:
    """Dumping a policy gives short durations and times that load back the same."""
    policy = load_policy(REPO / "warden.yaml")

    dumped = policy.model_dump(mode="json")

    assert dumped["reminders"]["cadence"] == ["1d", "3d", "7d"]
    assert dumped["working_hours"]["start"] == "09:00"
    assert parse_policy(yaml.safe_dump(dumped)) == policy


def test_policy_is_frozen() -> None:
    """Code cannot change the policy it was given."""
    policy = load_policy(POLICIES / "minimal.yaml")

    with pytest.raises(pydantic.ValidationError):
        policy.security_channel = "#random"  # type: ignore[misc]


def test_analyst_helpers() -> None:
    """Analysts split into Slack ids and emails; only listed ids are analysts."""
    policy = parse_policy(HEAD.replace("[U0123ABCDE]", "[U0123ABCDE, Alice@Example.com]"))

    assert policy.analyst_ids() == ["U0123ABCDE"]
    assert policy.analyst_emails() == ["alice@example.com"]
    assert policy.is_analyst_id("U0123ABCDE")
    assert not policy.is_analyst_id("U999")


def test_unquoted_times_are_read_as_written() -> None:
    """18:00 without quotes is a time, not YAML 1.1's base-60 number 1080."""
    policy = parse_policy(HEAD + "working_hours: {start: 8:30, end: 18:00}\n")

    assert policy.working_hours.start == time(8, 30)
    assert policy.working_hours.end == time(18)


# Problems


def test_unknown_top_level_key() -> None:
    """An unknown key is reported at the key, with a did-you-mean and the choices."""
    problems = problems_in(HEAD + "analyst: [U1]\n")

    assert [where(p) for p in problems] == [(6, 1)]
    assert problems[0].message.startswith("unknown key 'analyst' (did you mean 'analysts'?)")
    assert "expected one of: analysts, company, grants" in problems[0].message


def test_unknown_nested_key() -> None:
    """An unknown key inside a section names that section's keys."""
    problems = problems_in(HEAD + "scanners:\n  drive:\n    enabld: true\n")

    assert [where(p) for p in problems] == [(8, 5)]
    assert problems[0].message == (
        "unknown key 'enabld' (did you mean 'enabled'?); "
        "expected one of: allowed_domains, enabled, every, exclude, full_scan_every, "
        "link_fix, max_exception, personal_domains, rules"
    )


def test_bad_duration() -> None:
    """A duration that cannot be read points at the value and shows the expected form."""
    problems = problems_in(HEAD + "scanners:\n  github:\n    every: 4 hourz\n")

    assert [str(p) for p in problems] == [
        "warden.yaml: line 8, col 12: duration must look like 3d, 12h or 30m"
    ]


def test_several_problems_in_line_order() -> None:
    """Every problem in the file is reported at once, in line order."""
    with pytest.raises(PolicyError) as caught:
        load_policy(POLICIES / "several_problems.yaml")

    lines = str(caught.value).splitlines()
    file = str(POLICIES / "several_problems.yaml")
    assert lines == [
        f"{file}: line 5, col 19: "
        "expected a Slack channel id (C…) or a channel name like #security",
        f"{file}: line 8, col 17: duration must look like 3d, 12h or 30m",
        f"{file}: line 10, col 20: expected true or false",
        f"{file}: line 14, col 21: unknown value 'owner'; "
        "expected one of: reader, commenter, writer",
    ]


def test_yaml_syntax_error() -> None:
    """Broken YAML is one problem at the place the parser stopped."""
    problems = problems_in(HEAD + "grants:\n  enabled: [true\n")

    assert len(problems) == 1
    assert problems[0].line == 8
    assert problems[0].message.startswith("YAML syntax error: ")


def test_tab_indentation() -> None:
    """A tab in the indentation gets a hint to use spaces."""
    problems = problems_in(HEAD + "grants:\n\tenabled: true\n")

    assert where(problems[0]) == (7, 1)
    assert problems[0].message.endswith("(indent with spaces, not tabs)")


def test_missing_required_key_points_at_parent() -> None:
    """A missing key is reported on the mapping that lacks it."""
    text = HEAD.replace("  domains: [example.com]\n", "")

    problems = problems_in(text)

    assert [(where(p), p.message) for p in problems] == [((2, 3), "missing required key 'domains'")]


def test_missing_top_level_keys() -> None:
    """Missing top-level keys are reported at the top of the document."""
    problems = problems_in("company: {name: Example Inc, domains: [example.com]}\n")

    assert [str(p) for p in problems] == [
        "warden.yaml: line 1, col 1: missing required key 'security_channel'",
        "warden.yaml: line 1, col 1: missing required key 'analysts'",
    ]


def test_duplicate_key() -> None:
    """A key set twice is an error at the second one, naming the first line."""
    problems = problems_in(HEAD + 'security_channel: "#alerts"\n')

    assert [(where(p), p.message) for p in problems] == [
        ((6, 1), "duplicate key 'security_channel'; it is already set on line 4")
    ]


def test_cadence_not_increasing() -> None:
    """A reminder cadence that goes back in time points at the offending step."""
    problems = problems_in(HEAD + "reminders:\n  cadence: [1d, 7d, 3d]\n")

    assert [(where(p), p.message) for p in problems] == [
        ((7, 21), "cadence must increase: 3d comes after 7d")
    ]


def test_analyst_email_outside_company_domains() -> None:
    """An analyst email must be in one of the company's domains."""
    text = HEAD.replace("[U0123ABCDE]", "\n  - U0123ABCDE\n  - mallory@gmail.com")

    problems = problems_in(text)

    assert [(where(p), p.message) for p in problems] == [
        ((7, 5), "mallory@gmail.com is not in a company domain (example.com)")
    ]


def test_analyst_domain_checked_when_company_is_wrong() -> None:
    """A problem in the company section does not hide a bad analyst email."""
    text = HEAD.replace("name: Example Inc", "name: ''").replace(
        "[U0123ABCDE]", "[mallory@gmail.com]"
    )

    problems = problems_in(text)

    assert [p.message for p in problems] == [
        "expected text",
        "mallory@gmail.com is not in a company domain (example.com)",
    ]


def test_analysts_must_be_ids_or_emails() -> None:
    """An analyst that is neither a Slack id nor an email says what is expected."""
    problems = problems_in(HEAD.replace("[U0123ABCDE]", "alice"))

    assert [(where(p), p.message) for p in problems] == [
        ((5, 11), "expected a list of Slack user ids (U…) or company emails (at least one)")
    ]


def test_roles_outside_allowed_set() -> None:
    """A grant role outside the allowed set names the allowed roles."""
    problems = problems_in(HEAD + "grants:\n  github:\n    roles: [pull, admn]\n")

    assert [(where(p), p.message) for p in problems] == [
        ((8, 19), "unknown value 'admn'; expected one of: pull, triage, push")
    ]


def test_role_listed_twice() -> None:
    """A role listed twice is reported at the second one."""
    problems = problems_in(HEAD + "grants:\n  drive:\n    roles: [reader, reader]\n")

    assert [(where(p), p.message) for p in problems] == [((8, 21), "'reader' is listed twice")]


def test_github_scanner_needs_org() -> None:
    """Turning the GitHub scanner on without an organization is reported."""
    problems = problems_in(HEAD + "scanners:\n  github: {enabled: true}\n")

    assert [(where(p), p.message) for p in problems] == [
        ((7, 11), "the GitHub scanner needs org: the organization to scan")
    ]


def test_domain_both_allowed_and_denied() -> None:
    """A grant domain cannot be both allowed and denied."""
    text = HEAD + "grants:\n  allowed_domains: [partner.com]\n  denied_domains: [partner.com]\n"

    problems = problems_in(text)

    assert [(where(p), p.message) for p in problems] == [
        ((8, 20), "partner.com is both allowed and denied")
    ]


def test_uppercase_domain() -> None:
    """Company domains are lowercase, and the message shows the fix."""
    problems = problems_in(HEAD.replace("[example.com]", "[Example.com]"))

    assert [p.message for p in problems] == ["domain names are written in lowercase: example.com"]


def test_messages_avoid_pydantic_wording() -> None:
    """Messages are written for people, not in pydantic's words or with its links."""
    text = HEAD + "incidents:\n  suricata: {min_severity: 7}\n  enabled: maybe\n  kinds: 3\n"

    messages = [p.message for p in problems_in(text)]

    assert messages == [
        "expected a Suricata severity: 1 (most severe), 2 or 3",
        "expected true or false",
        "expected a list of incident kinds (at least one)",
    ]


def test_empty_file() -> None:
    """An empty policy says which keys it needs."""
    problems = problems_in("# nothing yet\n")

    assert [str(p) for p in problems] == [
        "warden.yaml: line 1, col 1: the policy is empty; "
        "expected company, security_channel and analysts at least"
    ]


def test_missing_file(tmp_path: Path) -> None:
    """A file that cannot be read is a PolicyError naming the file."""
    path = tmp_path / "warden.yaml"

    with pytest.raises(PolicyError) as caught:
        load_policy(path)

    assert str(caught.value) == f"{path}: cannot read it: No such file or directory"
