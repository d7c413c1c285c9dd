"""Drive v3 over HTTP: files, permissions, changes and shared drives.

Paths are those of drive.v3.json relative to the API endpoint. googleapiclient
replaces rootUrl + servicePath with ``client_options.api_endpoint`` when one
is given, so with ``api_endpoint=emu.url`` Drive calls arrive at ``/files``;
the emulator also answers under ``/drive/v3/`` for clients built on the full
Google URL layout.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import listing, sharing
from .directory import User
from .errors import GoogleApiError, file_not_found, invalid_value, permission_not_found
from .fields import Mask, select
from .render import DEFAULT_FILE, drive_json, file_json, permission_json
from .wire import Api, Call, Handler, page_token, read_page_token
from .workspace import Access, SharedDrive

Json = dict[str, Any]
DEFAULT_PERMISSION: Mask = {"kind": None, "id": None, "type": None, "role": None}
DEFAULT_PERMISSION_LIST: Mask = {
    "kind": None, "nextPageToken": None, "permissions": DEFAULT_PERMISSION,
}
DEFAULT_DRIVE: Mask = {"kind": None, "id": None, "name": None}
DEFAULT_DRIVE_LIST: Mask = {"kind": None, "nextPageToken": None, "drives": DEFAULT_DRIVE}


def _item(call: Call) -> tuple[int, str | None]:
    """The row of ``fileId`` and the caller's role, or Drive's 404 for anyone who cannot see it."""
    file_id = call.require("fileId")
    ws = call.ws
    row = ws.files.row_of(file_id)
    role = ws.role_of(call.user, row) if row is not None else None
    if row is None or role is None:
        raise file_not_found(file_id)
    if ws.drive_of(row) is not None and not call.flag("supportsAllDrives"):
        raise file_not_found(file_id)  # clients that do not support shared drives see nothing
    return row, role


def files_get(call: Call) -> Json:
    mask = call.mask("drive", "File", DEFAULT_FILE)
    row, _ = _item(call)
    return file_json(call.ws, row, call.user, mask)


# -- permissions ---------------------------------------------------------------


def _shared_drive_target(call: Call) -> SharedDrive | None:
    """permissions.* also take a shared drive's id as fileId."""
    drive = call.ws.drive_by_id.get(call.path.get("fileId", ""))
    if drive is None:
        return None
    admin = bool(call.user and call.user.admin and call.flag("useDomainAdminAccess"))
    if not call.flag("supportsAllDrives") or not (
        admin or call.ws.member_role(call.user, drive)
    ):
        raise file_not_found(drive.id)
    return drive


def _accesses(call: Call) -> tuple[list[Access], bool]:
    drive = _shared_drive_target(call)
    if drive is not None:
        members = [Access(g, [("member", g.role, False, None)]) for g in drive.members.values()]
        return members, True
    row, role = _item(call)
    sharing.require_sharer(role)
    return call.ws.accesses(row), call.ws.drive_of(row) is not None


def permissions_list(call: Call) -> Json:
    mask = call.mask("drive", "PermissionList", DEFAULT_PERMISSION_LIST)
    accesses, in_drive = _accesses(call)
    # Unspecified: every permission of a My Drive item, 100 of a shared drive's.
    default = 100 if in_drive else max(len(accesses), 1)
    page_size = call.integer("pageSize", default, 1, 100) or default
    context = (call.grant.principal, call.path["fileId"])
    start = read_page_token(call.query.get("pageToken"), *context)
    page = accesses[start:start + page_size]
    answer: Json = {"kind": "drive#permissionList", "permissions": [
        permission_json(call.ws, access, in_drive) for access in page
    ]}
    if start + page_size < len(accesses):
        answer["nextPageToken"] = page_token(start + page_size, *context)
    return select(answer, mask)


def _permission_answer(call: Call, row: int, permission_id: str, mask: Mask | None) -> Json:
    in_drive = call.ws.drive_of(row) is not None
    for access in call.ws.accesses(row):
        if access.grant.id == permission_id:
            return select(permission_json(call.ws, access, in_drive), mask)
    raise GoogleApiError(500, "internalError")  # a grant just written is always there


def permissions_get(call: Call) -> Json:
    mask = call.mask("drive", "Permission", DEFAULT_PERMISSION)
    accesses, in_drive = _accesses(call)
    wanted = call.require("permissionId")
    for access in accesses:
        if access.grant.id == wanted:
            return select(permission_json(call.ws, access, in_drive), mask)
    raise permission_not_found(wanted)


def _sharer(call: Call) -> tuple[int, User]:
    """The item whose sharing the caller changes, and the caller, who must be a sharer."""
    if call.ws.drive_by_id.get(call.path.get("fileId", "")) is not None:
        raise GoogleApiError(403, "forbidden", "The emulator does not change shared drive "
                             "membership over the API; use add_shared_drive().")
    row, role = _item(call)
    sharing.require_sharer(role)
    assert call.user is not None  # a role implies a user
    return row, call.user


def _params(call: Call) -> Json:
    return {
        "sendNotificationEmail": call.flag("sendNotificationEmail"),
        "transferOwnership": call.flag("transferOwnership"),
        "removeExpiration": call.flag("removeExpiration"),
        "emailMessage": call.query.get("emailMessage"),
    }


def permissions_create(call: Call) -> Json:
    mask = call.mask("drive", "Permission", DEFAULT_PERMISSION)
    row, actor = _sharer(call)
    grant = sharing.create(call.ws, actor, row, call.body, _params(call))
    return _permission_answer(call, row, grant.id, mask)


def permissions_update(call: Call) -> Json:
    mask = call.mask("drive", "Permission", DEFAULT_PERMISSION)
    row, actor = _sharer(call)
    permission_id = call.require("permissionId")
    grant = sharing.update(call.ws, actor, row, permission_id, call.body, _params(call))
    return _permission_answer(call, row, grant.id, mask)


def permissions_delete(call: Call) -> None:
    row, actor = _sharer(call)
    sharing.delete(call.ws, actor, row, call.require("permissionId"))


# -- changes and shared drives ----------------------------------------------------


def changes_start_token(call: Call) -> Json:
    mask = call.mask("drive", "StartPageToken", None)
    drive_id = call.query.get("driveId")
    if drive_id is not None:
        listing.member_drive(call, drive_id)
    answer = {"kind": "drive#startPageToken", "startPageToken": call.ws.changes.start_token()}
    return select(answer, mask)


def _visible_drives(call: Call) -> list[SharedDrive]:
    if call.flag("useDomainAdminAccess"):
        if not (call.user and call.user.admin):
            raise GoogleApiError(403, "noListTeamDrivesAdministratorPrivilege",
                                 "The user does not have administrator privileges "
                                 "to list the domain's shared drives.")
        return list(call.ws.drives)
    return [d for d in call.ws.drives if call.ws.member_role(call.user, d)]


def drives_list(call: Call) -> Json:
    mask = call.mask("drive", "DriveList", DEFAULT_DRIVE_LIST)
    if call.query.get("q"):
        raise invalid_value("q", "The emulator does not evaluate shared drive queries; "
                            "list them all and filter.")
    drives = _visible_drives(call)
    page_size = call.integer("pageSize", 10, 1, 100) or 10
    context = (call.grant.principal, call.query.get("useDomainAdminAccess"))
    start = read_page_token(call.query.get("pageToken"), *context)
    answer: Json = {"kind": "drive#driveList",
                    "drives": [drive_json(d) for d in drives[start:start + page_size]]}
    if start + page_size < len(drives):
        answer["nextPageToken"] = page_token(start + page_size, *context)
    return select(answer, mask)


def drives_get(call: Call) -> Json:
    mask = call.mask("drive", "Drive", None)
    drive_id = call.require("driveId")
    for drive in _visible_drives(call):
        if drive.id == drive_id:
            return select(drive_json(drive), mask)
    raise GoogleApiError(404, "notFound", f"Shared drive not found: {drive_id}",
                         location="driveId")


ROUTES: list[tuple[str, str, str, Handler]] = [
    ("GET", "files", "drive.files.list", listing.files_list),
    ("GET", "files/{fileId}", "drive.files.get", files_get),
    ("GET", "files/{fileId}/permissions", "drive.permissions.list", permissions_list),
    ("POST", "files/{fileId}/permissions", "drive.permissions.create", permissions_create),
    ("GET", "files/{fileId}/permissions/{permissionId}", "drive.permissions.get",
     permissions_get),
    ("PATCH", "files/{fileId}/permissions/{permissionId}", "drive.permissions.update",
     permissions_update),
    ("DELETE", "files/{fileId}/permissions/{permissionId}", "drive.permissions.delete",
     permissions_delete),
    ("GET", "changes/startPageToken", "drive.changes.getStartPageToken", changes_start_token),
    ("GET", "changes", "drive.changes.list", listing.changes_list),
    ("GET", "drives", "drive.drives.list", drives_list),
    ("GET", "drives/{driveId}", "drive.drives.get", drives_get),
]


def add_routes(app: web.Application, api: Api) -> None:
    for prefix in ("/", "/drive/v3/"):
        for verb, path, method_id, handler in ROUTES:
            app.router.add_route(verb, prefix + path, api.endpoint(method_id, handler))
