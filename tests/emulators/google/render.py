"""Drive's resources as JSON, seen by one user, cut to a ``fields`` mask.

Files are built field by field (only what the mask asks for), since a page
of a thousand files with their permissions is the hot path of a scan. Fields
Drive leaves out for an item (``owners`` and ``permissions`` of shared-drive
items, ``driveId`` of My Drive items) are left out here too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import fields
from .directory import User, rfc3339
from .fields import Mask
from .files import FOLDER
from .sharing import SHARER_ROLES
from .workspace import Access, SharedDrive, Workspace

Json = dict[str, Any]
EDITOR_LINKS = {
    "application/vnd.google-apps.document":
        "https://docs.google.com/document/d/{}/edit?usp=drivesdk",
    "application/vnd.google-apps.spreadsheet":
        "https://docs.google.com/spreadsheets/d/{}/edit?usp=drivesdk",
    "application/vnd.google-apps.presentation":
        "https://docs.google.com/presentation/d/{}/edit?usp=drivesdk",
    "application/vnd.google-apps.form": "https://docs.google.com/forms/d/{}/edit?usp=drivesdk",
    FOLDER: "https://drive.google.com/drive/folders/{}",
}
FILE_LINK = "https://drive.google.com/file/d/{}/view?usp=drivesdk"
PHOTO = "https://lh3.googleusercontent.com/a/default-user=s64"
DEFAULT_FILE: Mask = {"kind": None, "id": None, "name": None, "mimeType": None}


class FileView:
    """One item as one user sees it; computes what a field needs, once."""

    __slots__ = ("ws", "row", "viewer", "drive", "_role", "_accesses")

    def __init__(self, ws: Workspace, row: int, viewer: User | None) -> None:
        self.ws = ws
        self.row = row
        self.viewer = viewer
        self.drive = ws.drive_of(row)
        self._role: str | None | bool = False
        self._accesses: list[Access] | None = None

    @property
    def id(self) -> str:
        return self.ws.files.id_of(self.row)

    @property
    def role(self) -> str | None:
        if self._role is False:
            self._role = self.ws.role_of(self.viewer, self.row)
        return self._role  # type: ignore[return-value]

    def accesses(self) -> list[Access]:
        if self._accesses is None:
            self._accesses = self.ws.accesses(self.row)
        return self._accesses

    def owners(self) -> list[Json] | None:
        owner = self.ws.owner_of(self.row)
        return [user_json(owner, self.viewer)] if owner else None

    def permissions(self) -> list[Json] | None:
        # "Only available if the requesting user can share the file. Not populated
        # for items in shared drives." (the File schema of drive.v3.json)
        if self.drive is not None or self.role not in SHARER_ROLES:
            return None
        return [permission_json(self.ws, a, in_drive=False) for a in self.accesses()]

    def capabilities(self) -> Json:
        role = self.role or ""
        rank = {"reader": 1, "commenter": 2}.get(role, 3 if role else 0)
        return {"canEdit": rank >= 3, "canComment": rank >= 2, "canShare": role in SHARER_ROLES,
                "canCopy": rank >= 1, "canDownload": rank >= 1}


def _link(view: FileView) -> str:
    mime = view.ws.files.mime_type(view.row)
    return EDITOR_LINKS.get(mime, FILE_LINK).format(view.id)


def _my_drive_only(value: Callable[[FileView], Any]) -> Callable[[FileView], Any]:
    return lambda view: None if view.drive else value(view)


FILE_FIELDS: dict[str, Callable[[FileView], Any]] = {
    "kind": lambda v: "drive#file",
    "id": lambda v: v.id,
    "name": lambda v: v.ws.files.name(v.row),
    "mimeType": lambda v: v.ws.files.mime_type(v.row),
    "webViewLink": _link,
    "iconLink": lambda v: "https://drive-thirdparty.googleusercontent.com/16/type/"
    + v.ws.files.mime_type(v.row),
    "parents": lambda v: list(v.ws.parent_ids(v.row)),
    "owners": FileView.owners,
    "permissions": FileView.permissions,
    "permissionIds": lambda v: [a.grant.id for a in v.accesses()],
    "hasAugmentedPermissions": lambda v: bool(v.ws.live_grants(v.row)) if v.drive else None,
    "driveId": lambda v: v.drive.id if v.drive else None,
    "teamDriveId": lambda v: v.drive.id if v.drive else None,
    "trashed": lambda v: v.ws.files.trashed(v.row),
    "explicitlyTrashed": lambda v: v.ws.files.trashed(v.row),
    "createdTime": lambda v: rfc3339(v.ws.files.created[v.row]),
    "modifiedTime": lambda v: rfc3339(v.ws.files.modified_time(v.row)),
    "shared": _my_drive_only(lambda v: bool(v.ws.live_grants(v.row))),
    "ownedByMe": _my_drive_only(lambda v: v.ws.owner_of(v.row) is v.viewer),
    "spaces": lambda v: ["drive"],
    "starred": lambda v: False,
    "writersCanShare": lambda v: True,
    "viewersCanCopyContent": lambda v: True,
    "copyRequiresWriterPermission": lambda v: False,
    "capabilities": FileView.capabilities,
}


def file_json(ws: Workspace, row: int, viewer: User | None, mask: Mask | None) -> Json:
    """The File resource; ``mask`` None means every field the emulator models."""
    view = FileView(ws, row, viewer)
    out: Json = {}
    names = FILE_FIELDS if mask is None or "*" in mask else mask
    for name in names:
        getter = FILE_FIELDS.get(name)
        value = getter(view) if getter else None
        if value is not None:
            out[name] = fields.select(value, mask.get(name) if mask else None)
    return out


def user_json(user: User, viewer: User | None) -> Json:
    return {
        "kind": "drive#user", "displayName": user.name, "emailAddress": user.email,
        "me": user is viewer, "permissionId": user.permission_id, "photoLink": PHOTO,
    }


def permission_json(ws: Workspace, access: Access, in_drive: bool) -> Json:
    grant = access.grant
    out: Json = {"kind": "drive#permission", "id": grant.id, "type": grant.type,
                 "role": grant.role}
    if grant.type in ("user", "group"):
        out["emailAddress"] = grant.email
        known = ws.directory.get(grant.email)
        if known is not None:
            out["displayName"] = known.name
            out["photoLink"] = PHOTO
        out["deleted"] = False
        if grant.type == "user" and not in_drive:
            out["pendingOwner"] = False
    elif grant.type == "domain":
        out["domain"] = grant.domain
        out["displayName"] = grant.domain
        out["allowFileDiscovery"] = bool(grant.discoverable)
    else:
        out["allowFileDiscovery"] = bool(grant.discoverable)
    if grant.expires is not None:
        out["expirationTime"] = rfc3339(grant.expires)
    if in_drive:
        out["permissionDetails"] = [_detail(d, "permissionType") for d in access.details]
        out["teamDrivePermissionDetails"] = [
            _detail(d, "teamDrivePermissionType") for d in access.details
        ]
    return out


def _detail(detail: tuple[str, str, bool, str | None], type_key: str) -> Json:
    kind, role, inherited, source = detail
    out: Json = {type_key: kind, "role": role, "inherited": inherited}
    if source:
        out["inheritedFrom"] = source
    return out


def drive_json(drive: SharedDrive) -> Json:
    return {
        "kind": "drive#drive", "id": drive.id, "name": drive.name,
        "createdTime": rfc3339(drive.created), "hidden": False,
        "restrictions": {
            "adminManagedRestrictions": False, "copyRequiresWriterPermission": False,
            "domainUsersOnly": False, "driveMembersOnly": False,
            "sharingFoldersRequiresOrganizerPermission": False,
        },
    }
