"""The Google Workspace the emulator serves: users, My Drives, shared drives.

It knows who may see what. In My Drive a file has one owner and the grants set
on it; in a shared drive nobody owns an item, and access comes from drive
membership, from grants on the folders above the item, and from grants on the
item itself. Every mutation records a change in the feeds that should see it.
All access goes through ``lock`` (re-entrant), shared with the HTTP side.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import changes
from .directory import ID_CHARS, Directory, User, grantee_permission_id
from .files import (
    FOLDER,
    ROLE_RANK,
    FileTable,
    Grant,
    drive_of_home,
    home_of_drive,
)

Json = dict[str, Any]
DRIVE_ROLES = ("organizer", "fileOrganizer", "writer", "commenter", "reader")
MAX_FOLDER_DEPTH = 100


@dataclass(slots=True)
class SharedDrive:
    index: int
    id: str
    name: str
    created: float
    members: dict[str, Grant] = field(default_factory=dict)


@dataclass(slots=True)
class Access:
    """One grantee's access to an item, merged across its sources."""

    grant: Grant
    # (permissionType, role, inherited, inheritedFrom) per source, as Drive lists them
    details: list[tuple[str, str, bool, str | None]] = field(default_factory=list)


class Workspace:
    def __init__(self, domain: str = "example.com", clock: Callable[[], float] = time.time,
                 seed: int | None = None) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.rng = random.Random(seed)
        self.directory = Directory(domain, self.rng)
        self.files = FileTable("".join(self.rng.choices(ID_CHARS[:62], k=20)))
        self.drives: list[SharedDrive] = []
        self.drive_by_id: dict[str, SharedDrive] = {}
        self.changes = changes.ChangeLog()
        self.notifications: list[Json] = []

    # -- people and drives ---------------------------------------------------

    def add_user(self, email: str, name: str | None = None, admin: bool = False,
                 suspended: bool = False) -> User:
        with self.lock:
            return self.directory.add(email, name, admin, suspended, self.clock())

    def user_grant(self, email: str, role: str, expires: float | None = None) -> Grant:
        user = self.directory.get(email)
        perm_id = user.permission_id if user else grantee_permission_id(email)
        return Grant(perm_id, "user", role, email=email.lower(), expires=expires)

    def add_shared_drive(self, name: str, members: Mapping[str, str]) -> SharedDrive:
        with self.lock:
            drive = SharedDrive(len(self.drives), self.directory.new_drive_id(), name,
                                self.clock())
            for email, role in members.items():
                if role not in DRIVE_ROLES:
                    raise ValueError(f"a shared drive role is one of {', '.join(DRIVE_ROLES)}")
                drive.members[email.lower()] = self.user_grant(email, role)
            self.drives.append(drive)
            self.drive_by_id[drive.id] = drive
            return drive

    # -- items -----------------------------------------------------------------

    def add_file(self, owner_email: str, name: str, mime_type: str,
                 parents: list[str] | None = None) -> int:
        with self.lock:
            owner = self.directory.require(owner_email)
            self._check_parents(parents)
            row = self.files.add(name, mime_type, owner.index, self.clock(), parents)
            self.record_change(row)
            return row

    def add_drive_file(self, drive_id: str, name: str, creator_email: str, mime_type: str,
                       parents: list[str] | None = None) -> int:
        with self.lock:
            drive = self.require_drive(drive_id)
            creator = self.directory.require(creator_email)
            if drive.members.get(creator.email) is None:
                raise ValueError(f"{creator.email} is not a member of shared drive {drive_id}")
            self._check_parents(parents)
            row = self.files.add(name, mime_type, home_of_drive(drive.index), self.clock(),
                                 parents)
            self.record_change(row)
            return row

    def bulk_add(self, owner_email: str | None, drive_id: str | None, count: int,
                 share_every: int, share: Grant | None, mime_type: str, prefix: str,
                 record_changes: bool) -> range:
        """Many numbered files at once; every ``share_every``-th one carries ``share``."""
        with self.lock:
            if drive_id is not None:
                home = home_of_drive(self.require_drive(drive_id).index)
            else:
                home = self.directory.require(owner_email or "").index
            rows = self.files.add_numbered(prefix, mime_type, home, self.clock(), count)
            if share is not None and share_every > 0:
                for row in rows[share_every - 1::share_every]:
                    self.files.set_grants(row, (share,))
            if record_changes:
                for row in rows:
                    self.record_change(row)
            return rows

    def _check_parents(self, parents: list[str] | None) -> None:
        for parent in parents or ():
            row = self.files.row_of(parent)
            if row is None or self.files.mime_type(row) != FOLDER:
                raise ValueError(f"parent {parent!r} is not a folder in this emulator")

    def require_row(self, file_id: str) -> int:
        row = self.files.row_of(file_id)
        if row is None:
            raise KeyError(f"no file {file_id!r} in the emulator")
        return row

    def require_drive(self, drive_id: str) -> SharedDrive:
        drive = self.drive_by_id.get(drive_id)
        if drive is None:
            raise KeyError(f"no shared drive {drive_id!r}; create it with add_shared_drive()")
        return drive

    def drive_of(self, row: int) -> SharedDrive | None:
        index = drive_of_home(self.files.homes[row])
        return None if index is None else self.drives[index]

    def owner_of(self, row: int) -> User | None:
        home = self.files.homes[row]
        return self.directory.users[home] if home >= 0 else None

    def parent_ids(self, row: int) -> tuple[str, ...]:
        if row in self.files.parents:
            return self.files.parents[row]
        drive = self.drive_of(row)
        if drive is not None:
            return (drive.id,)
        owner = self.owner_of(row)
        return (owner.root_id,) if owner else ()

    # -- who has access ----------------------------------------------------------

    def live_grants(self, row: int) -> tuple[Grant, ...]:
        """The item's own grants, less those whose expiration time has passed."""
        now = self.clock()
        grants = self.files.direct_grants(row)
        return tuple(g for g in grants if g.expires is None or g.expires > now)

    def accesses(self, row: int) -> list[Access]:
        """Everyone with access, one entry per grantee, as permissions.list shows them."""
        drive = self.drive_of(row)
        if drive is None:
            owner = self.owner_of(row)
            assert owner is not None
            merged = [Access(Grant(owner.permission_id, "user", "owner", email=owner.email))]
            return merged + [Access(grant) for grant in self.live_grants(row)]
        sources: list[tuple[Grant, tuple[str, str, bool, str | None]]] = []
        for grant in drive.members.values():
            sources.append((grant, ("member", grant.role, True, drive.id)))
        for folder_id, folder_row in self._ancestor_folders(row):
            for grant in self.live_grants(folder_row):
                sources.append((grant, ("file", grant.role, True, folder_id)))
        for grant in self.live_grants(row):
            sources.append((grant, ("file", grant.role, False, None)))
        return _merge_sources(sources)

    def _ancestor_folders(self, row: int) -> list[tuple[str, int]]:
        found: list[tuple[str, int]] = []
        current = row
        for _ in range(MAX_FOLDER_DEPTH):
            parents = self.files.parents.get(current)
            parent_row = self.files.row_of(parents[0]) if parents else None
            if parent_row is None:
                return found
            found.append((parents[0], parent_row))  # type: ignore[index]
            current = parent_row
        return found

    def role_of(self, user: User | None, row: int) -> str | None:
        """The highest role ``user`` has on the item, or None when they cannot see it."""
        if user is None:
            return None
        if self.files.homes[row] == user.index:
            return "owner"
        if self.drive_of(row) is None:
            grants = self.live_grants(row)
        else:
            grants = tuple(access.grant for access in self.accesses(row))
        best = [g for g in grants if _reaches(g, user)]
        return max(best, key=Grant.rank).role if best else None

    def member_role(self, user: User | None, drive: SharedDrive) -> str | None:
        grant = drive.members.get(user.email) if user else None
        return grant.role if grant else None

    # -- changes -----------------------------------------------------------------

    def record_change(self, row: int, also: Iterable[str] = ()) -> None:
        """A change to ``row`` for its owner or drive, and for ``also`` (emails)."""
        drive = self.drive_of(row)
        owner = self.owner_of(row)
        keys = [changes.drive_feed(drive.index) if drive else changes.user_feed(owner.index)]
        keys += [changes.user_feed(u.index) for u in map(self.directory.get, also) if u]
        self.changes.record(keys, row, self.clock())

    def feeds_of(self, user: User, with_drives: bool) -> list[str]:
        keys = [changes.user_feed(user.index)]
        if with_drives:
            keys += [changes.drive_feed(d.index) for d in self.drives if user.email in d.members]
        return keys

    def notify(self, kind: str, to: str, sender: str, row: int, role: str,
               message: str | None) -> None:
        self.notifications.append({
            "kind": kind, "to": to, "from": sender, "file_id": self.files.id_of(row),
            "file_name": self.files.name(row), "role": role, "message": message,
            "time": self.clock(),
        })


def _reaches(grant: Grant, user: User) -> bool:
    if grant.type == "user":
        return grant.email == user.email
    if grant.type == "domain":
        return grant.domain == user.domain
    return grant.type == "anyone"


def _merge_sources(
    sources: list[tuple[Grant, tuple[str, str, bool, str | None]]],
) -> list[Access]:
    """Drive shows one permission per grantee, with the highest role and every source."""
    merged: dict[str, Access] = {}
    for grant, detail in sources:
        access = merged.get(grant.id)
        if access is None:
            merged[grant.id] = access = Access(grant)
        elif ROLE_RANK[grant.role] > access.grant.rank():
            access.grant = grant
        access.details.append(detail)
    return list(merged.values())
