import pytest

from bot.policy import parse_policy
from scanners.drive_rules import DriveFile, Permission, findings_for, fingerprint, rule_for

COMPANY = ["example.com"]
HEAD = """\
company: {name: Example, domains: [example.com]}
security_channel: "#security"
analysts: [U0123]
"""


def drive_policy(extra: str = ""):
    return parse_policy(HEAD + "scanners:\n  drive:\n    enabled: true\n" + extra).scanners.drive


def a_file(*permissions: Permission, parents=("1FolderAbCdEf",)) -> DriveFile:
    return DriveFile(
        id="1FileAbCdEfGh",
        name="Plan",
        owner="alice@example.com",
        link="https://drive/1FileAbCdEfGh",
        parents=parents,
        permissions=permissions,
    )


@pytest.mark.parametrize(
    ("permission", "rule"),
    [
        (Permission("p", "anyone", "reader", discoverable=True), "public_on_web"),
        (Permission("p", "anyone", "reader"), "anyone_with_link"),
        (Permission("p", "domain", "reader", domain="rival.com"), "outside_domain"),
        (Permission("p", "user", "writer", email="bob@rival.com"), "outside_user"),
        (Permission("p", "group", "reader", email="team@rival.com"), "outside_user"),
        (Permission("p", "user", "reader", email="bob@gmail.com"), "personal_account"),
        (Permission("p", "user", "writer", email="carol@example.com"), None),
        (Permission("p", "domain", "reader", domain="example.com"), None),
        (Permission("p", "user", "owner", email="alice@example.com"), None),
        (Permission("p", "anyone", "reader", inherited=True), None),
    ],
)
def test_each_kind_of_share_maps_to_its_rule(permission, rule):
    """Public, link, outside domain, outside user and personal shares each have a rule."""
    assert rule_for(permission, drive_policy(), COMPANY) == rule


def test_allowed_partner_domain_is_not_a_finding():
    """A share with a partner the policy allows is fine."""
    policy = drive_policy("    allowed_domains: [partner.com]\n")

    assert (
        rule_for(Permission("p", "user", "reader", email="a@partner.com"), policy, COMPANY) is None
    )


def test_findings_carry_the_policy_severity_and_a_stable_fingerprint():
    """A rule's severity comes from the policy; the fingerprint ignores the permission id."""
    policy = drive_policy("    rules:\n      anyone_with_link: {severity: critical}\n")

    first = findings_for(a_file(Permission("p1", "anyone", "reader")), policy, COMPANY)
    again = findings_for(a_file(Permission("p9", "anyone", "reader")), policy, COMPANY)

    assert first[0].severity == "critical"
    assert (
        first[0].fingerprint
        == again[0].fingerprint
        == fingerprint("anyone_with_link", "1FileAbCdEfGh", "anyone")
    )


def test_switched_off_rule_finds_nothing():
    """`{enabled: false}` silences a rule and keeps the others."""
    policy = drive_policy("    rules:\n      anyone_with_link: {enabled: false}\n")
    file = a_file(
        Permission("p1", "anyone", "reader"),
        Permission("p2", "user", "reader", email="x@gmail.com"),
    )

    assert [f.rule for f in findings_for(file, policy, COMPANY)] == ["personal_account"]


@pytest.mark.parametrize(
    "exclude",
    ["files: [1FileAbCdEfGh]", "folders: [1FolderAbCdEf]", "owners: [alice@example.com]"],
)
def test_excluded_files_folders_and_owners_are_skipped(exclude):
    """Exclusions by file id, by folder and by owner all silence the file."""
    policy = drive_policy(f"    exclude:\n      {exclude}\n")

    assert findings_for(a_file(Permission("p", "anyone", "reader")), policy, COMPANY) == []
