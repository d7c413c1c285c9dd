"""Which Drive shares break the policy: pure functions from a file's sharing to findings.

A finding's fingerprint is stable across scans: it names the rule, the file
and who the file is shared with, not the permission id, which Drive may
reissue. The same exposure seen again is the same finding.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass

from bot.policy_model import DriveScanner


@dataclass(frozen=True, slots=True)
class Permission:
    id: str
    type: str  # user, group, domain, anyone
    role: str
    email: str | None = None
    domain: str | None = None
    discoverable: bool = False
    inherited: bool = False


@dataclass(frozen=True, slots=True)
class DriveFile:
    id: str
    name: str
    owner: str  # the owner's email; for a shared-drive item, the drive's id
    link: str
    parents: tuple[str, ...] = ()
    drive_id: str | None = None
    permissions: tuple[Permission, ...] = ()


@dataclass(frozen=True, slots=True)
class Finding:
    fingerprint: str
    rule: str
    severity: str
    file_id: str
    file_name: str
    owner: str
    permission_id: str
    shared_with: str  # "anyone", a domain or an email
    role: str
    link: str


SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def fingerprint(rule: str, file_id: str, shared_with: str) -> str:
    key = f"drive|{rule}|{file_id}|{shared_with.lower()}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def rule_for(permission: Permission, policy: DriveScanner, company: Collection[str]) -> str | None:
    """The rule this permission breaks, or None when it is allowed."""
    if permission.role == "owner" or permission.inherited:
        return None
    if permission.type == "anyone":
        return "public_on_web" if permission.discoverable else "anyone_with_link"
    domain = (permission.domain or _domain_of(permission.email)).lower()
    if not domain or domain in company or domain in policy.allowed_domains:
        return None
    if permission.type == "domain":
        return "outside_domain"
    if domain in policy.personal_domains:
        return "personal_account"
    return "outside_user"


def findings_for(file: DriveFile, policy: DriveScanner, company: Collection[str]) -> list[Finding]:
    """Every rule the file's sharing breaks, unless the file is excluded.

    A folder exclusion covers the files directly in it (see scanners/drive.py).
    """
    if _excluded(file, policy):
        return []
    found = []
    for permission in file.permissions:
        rule = rule_for(permission, policy, company)
        if rule is None or not getattr(policy.rules, rule).enabled:
            continue
        shared_with = _shared_with(permission)
        found.append(
            Finding(
                fingerprint=fingerprint(rule, file.id, shared_with),
                rule=rule,
                severity=policy.rules.severity_of(rule),
                file_id=file.id,
                file_name=file.name,
                owner=file.owner,
                permission_id=permission.id,
                shared_with=shared_with,
                role=permission.role,
                link=file.link,
            )
        )
    return found


def most_severe_first(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.file_name.lower()))


def _excluded(file: DriveFile, policy: DriveScanner) -> bool:
    exclude = policy.exclude
    if file.id in exclude.files or file.owner.lower() in exclude.owners:
        return True
    return any(parent in exclude.folders for parent in file.parents)


def _shared_with(permission: Permission) -> str:
    if permission.type == "anyone":
        return "anyone"
    return (permission.email or permission.domain or "").lower()


def _domain_of(email: str | None) -> str:
    return email.rpartition("@")[2] if email and "@" in email else ""
