"""The Drive scanner: reads sharing through `integrations.google` and reports
findings, scope by scope. It writes nothing; `workflows.findings` records.

A scope is one user's My Drive (`user:<email>`) or one shared drive
(`drive:<id>`). A full scan lists every file of every scope with permissions
inside the listing (one request per 1,000 files). Shared-drive listings carry
no permissions, so only items Drive marks `hasAugmentedPermissions` (shared
beyond the drive's members) cost a `permissions.list`; the drive's own
members are checked once and reported against the drive, not per file.
An incremental scan reads each scope's changes feed from its saved token.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from google.auth.exceptions import RefreshError
from googleapiclient.errors import HttpError

from bot.policy_model import DriveScanner as DrivePolicy
from integrations.google import Drive, GoogleWorkspace
from scanners.drive_rules import DriveFile, Finding, Permission, findings_for

log = logging.getLogger(__name__)

FOLDER_MIME = "application/vnd.google-apps.folder"
ROLE_ORDER = {"organizer": 0, "fileOrganizer": 1, "writer": 2, "commenter": 3, "reader": 4}


@dataclass
class Page:
    """Findings from one page of one scope, and where to resume after it."""

    scope: str
    findings: list[Finding]
    files_seen: int
    file_ids: list[str]
    resume_token: str | None
    act_as: str | None = None  # who can change these files' sharing (shared drives)


@dataclass
class ScopeDone:
    scope: str
    change_token: str


@dataclass
class ScopeFailed:
    scope: str
    error: str


ScanEvent = Page | ScopeDone | ScopeFailed


@dataclass
class Resume:
    """Where an interrupted full scan stopped."""

    done: set[str] = field(default_factory=set)
    scope: str | None = None
    page_token: str | None = None


class DriveScan:
    def __init__(self, workspace: GoogleWorkspace, policy: DrivePolicy, company: list[str]):
        self._workspace = workspace
        self._policy = policy
        self._company = company
        # Only a file's direct parent is compared with the excluded folders:
        # resolving every ancestor would mean holding the folder tree of the
        # whole company, and listings do not arrive parents-first. A file in
        # a sub-folder of an excluded folder is therefore still reported.
        self._excluded_folders = set(policy.exclude.folders)
        self._drive_members_cache: dict[str, list[dict]] = {}
        self._act_as: dict[str, str] = {}

    def scopes(self) -> Iterator[str]:
        """Every scope, users first (sorted by the directory), then shared drives."""
        for email in self._workspace.users():
            yield f"user:{email}"
        admin = self._workspace.drive(self._workspace.admin_email)
        for shared in admin.shared_drives():
            yield f"drive:{shared['id']}"

    def full(self, resume: Resume | None = None) -> Iterator[ScanEvent]:
        resume = resume or Resume()
        for scope in self.scopes():
            if scope in resume.done:
                continue
            token = resume.page_token if scope == resume.scope else None
            yield from self._guarded(scope, lambda s=scope, t=token: self._full_scope(s, t))

    def incremental(self, tokens: dict[str, str]) -> Iterator[ScanEvent]:
        """Changes since each scope's token; scopes without one get a full listing."""
        for scope in self.scopes():
            token = tokens.get(scope)
            if token is None:
                yield from self._guarded(scope, lambda s=scope: self._full_scope(s, None))
            else:
                yield from self._guarded(scope, lambda s=scope, t=token: self._changes(s, t))

    def _guarded(self, scope: str, run) -> Iterator[ScanEvent]:
        """A scope that cannot be read is reported and skipped; the scan goes on.

        That covers Drive refusing (HttpError) and Google's token endpoint
        refusing to act as the user (RefreshError: a suspended or deleted
        account, delegation withdrawn).
        """
        try:
            yield from run()
        except HttpError as error:
            log.warning("drive.scope_failed", extra={"scope": scope, "status": error.resp.status})
            yield ScopeFailed(scope, f"HTTP {error.resp.status}: {error._get_reason()}")
        except RefreshError as error:
            log.warning("drive.scope_unauthorized", extra={"scope": scope})
            reason = error.args[0] if error.args else str(error)
            yield ScopeFailed(scope, f"cannot act as this user: {reason}")

    def _full_scope(self, scope: str, page_token: str | None) -> Iterator[ScanEvent]:
        drive, drive_id = self._drive_for(scope)
        change_token = drive.start_page_token(drive_id)  # before listing: nothing slips by
        if drive_id:
            yield self._drive_members(drive, drive_id, scope)
            pages = drive.drive_files(drive_id, page_token)
        else:
            pages = drive.owned_files(page_token)
        for files, next_token in pages:
            yield self._page(drive, scope, files, next_token)
        yield ScopeDone(scope, change_token)

    def _changes(self, scope: str, token: str) -> Iterator[ScanEvent]:
        drive, drive_id = self._drive_for(scope)
        for changes, next_token in drive.changes(token, drive_id):
            mine = [c for c in changes if _belongs_to(c, scope)]
            files = [c["file"] for c in mine if _still_there(c)]
            page = self._page(drive, scope, files, None)
            page.file_ids = [c["fileId"] for c in mine]  # removed ones resolve too
            yield page
            token = next_token
        yield ScopeDone(scope, token)

    def _page(self, drive: Drive, scope: str, files: list[dict], next_token) -> Page:
        found: list[Finding] = []
        for raw in files:
            if raw.get("mimeType") == FOLDER_MIME and raw["id"] in self._excluded_folders:
                continue
            permissions = raw.get("permissions")
            if permissions is None and raw.get("hasAugmentedPermissions"):
                permissions = drive.permissions(raw["id"])
            found += findings_for(_file(raw, permissions or [], scope), self._policy, self._company)
        ids = [raw["id"] for raw in files]
        return Page(scope, found, len(files), ids, next_token, self._act_as.get(scope))

    def _drive_members(self, drive: Drive, drive_id: str, scope: str) -> Page:
        """The shared drive's own permissions, checked once for all its items."""
        raw = {"id": drive_id, "name": f"Shared drive {drive_id}", "webViewLink": ""}
        members = self._members(drive_id)
        drive_file = _file(raw, members, scope, inherited_too=True)
        found = findings_for(drive_file, self._policy, self._company)
        return Page(scope, found, 0, [], None, self._workspace.admin_email)

    def _drive_for(self, scope: str) -> tuple[Drive, str | None]:
        kind, _, name = scope.partition(":")
        if kind == "drive":
            self._act_as[scope] = self._member_to_act_as(name)
            return self._workspace.drive(self._act_as[scope]), name
        return self._workspace.drive(name), None

    def _members(self, drive_id: str) -> list[dict]:
        if drive_id not in self._drive_members_cache:
            admin = self._workspace.drive(self._workspace.admin_email)
            self._drive_members_cache[drive_id] = admin.permissions(drive_id, as_admin=True)
        return self._drive_members_cache[drive_id]

    def _member_to_act_as(self, drive_id: str) -> str:
        """A company member of the shared drive: only members may list its files.

        An admin may read a drive's members without being one, but files.list
        has no admin access, so the scan acts as an organizer (or any member).
        """
        members = [
            p for p in self._members(drive_id)
            if p.get("type") == "user" and _domain(p.get("emailAddress")) in self._company
        ]  # fmt: skip
        members.sort(key=lambda p: ROLE_ORDER.get(p.get("role"), len(ROLE_ORDER)))
        return members[0]["emailAddress"].lower() if members else self._workspace.admin_email


def _domain(email: str | None) -> str:
    return (email or "").rpartition("@")[2].lower()


def _belongs_to(change: dict, scope: str) -> bool:
    """Whether this scope judges the changed file.

    A user's feed also names files others shared with them and items of
    shared drives they belong to; those are judged in their owner's scope
    (or their drive's), or the same file would be reported, and resolved,
    from several places.
    """
    kind, _, name = scope.partition(":")
    file = change.get("file")
    if kind == "drive" or file is None:
        return True  # a removal carries no file: resolving is scoped by the caller
    if file.get("driveId"):
        return False
    owners = [o.get("emailAddress", "").lower() for o in file.get("owners") or []]
    return name in owners


def _still_there(change: dict) -> bool:
    return not change.get("removed") and "file" in change and not change["file"].get("trashed")


def _file(raw: dict, permissions: list[dict], scope: str, inherited_too: bool = False) -> DriveFile:
    owners = raw.get("owners") or []
    owner = owners[0]["emailAddress"].lower() if owners else scope.partition(":")[2]
    return DriveFile(
        id=raw["id"],
        name=raw.get("name") or raw["id"],
        owner=owner,
        link=raw.get("webViewLink") or "",
        parents=tuple(raw.get("parents") or ()),
        drive_id=raw.get("driveId"),
        permissions=tuple(
            _permission(p, inherited_too) for p in permissions if not p.get("deleted")
        ),
    )


def _permission(raw: dict, inherited_too: bool) -> Permission:
    details = raw.get("permissionDetails") or []
    inherited = bool(details) and all(d.get("inherited") for d in details)
    return Permission(
        id=raw["id"],
        type=raw["type"],
        role=raw["role"],
        email=raw.get("emailAddress"),
        domain=raw.get("domain"),
        discoverable=bool(raw.get("allowFileDiscovery")),
        inherited=inherited and not inherited_too,
    )
