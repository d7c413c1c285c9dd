"""permissions.create, update and delete: Drive's rules for sharing.

Request bodies are checked against the ``Permission`` schema of drive.v3.json
first (unknown names, wrong JSON types, output-only fields), then against
Drive's sharing rules, with Drive's reasons and, where known, its wording.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from . import discovery
from .directory import User, grantee_permission_id
from .errors import (
    GoogleApiError,
    bad_request,
    insufficient_file_permissions,
    invalid_value,
    not_writable,
    permission_not_found,
    unknown_json_name,
)
from .files import FOLDER, Grant
from .workspace import Access, Workspace

Json = dict[str, Any]
TYPES = ("user", "group", "domain", "anyone")
ROLES = ("owner", "organizer", "fileOrganizer", "writer", "commenter", "reader")
SHARER_ROLES = {"owner", "organizer", "fileOrganizer", "writer"}
OUTPUT_ONLY = {
    "id", "displayName", "deleted", "photoLink", "permissionDetails",
    "teamDrivePermissionDetails",
}
JSON_TYPES = {"boolean": (bool, "TYPE_BOOL"), "string": (str, "TYPE_STRING"),
              "array": (list, "TYPE_MESSAGE")}
MAX_EXPIRY_SECONDS = 366 * 24 * 3600
SEND_NOTIFICATION_RULE = (
    "The sendNotificationEmail parameter is only applicable for permissions of type "
    "'user' or 'group', and must not be disabled for ownership transfers."
)
TRANSFER_RULE = (
    "The transferOwnership parameter must be enabled when the permission role is 'owner'."
)


def require_sharer(role: str | None) -> None:
    """Owners, organizers and writers may change sharing; readers may not."""
    if role not in SHARER_ROLES:
        raise insufficient_file_permissions()


def check_body(body: Any) -> Json:
    """The body as the schema allows it, or Google's refusal."""
    if not isinstance(body, dict):
        raise GoogleApiError(400, "parseError", "Invalid JSON payload received.")
    schema = discovery.properties("drive", "Permission")
    for name, value in body.items():
        if name not in schema:
            raise unknown_json_name(name)
        expected = JSON_TYPES.get(schema[name].get("type", ""))
        if expected and not isinstance(value, expected[0]):
            snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
            message = f"Invalid value at 'permission.{snake}' ({expected[1]}), {json.dumps(value)}"
            raise GoogleApiError(400, "invalid", message)
    if OUTPUT_ONLY & body.keys():
        raise not_writable()
    return body


def _required(field: str) -> GoogleApiError:
    message = f"The permission {field} field is required."
    return GoogleApiError(400, "required", message, location=f"permission.{field}")


def _choice(body: Json, field: str, allowed: tuple[str, ...]) -> str:
    value = body.get(field)
    if not value:
        raise _required(field)
    if value not in allowed:
        raise invalid_value(f"permission.{field}", f"The permission {field} '{value}' is invalid.")
    return value


def _expiry(body: Json, kind: str, role: str, now: float) -> float | None:
    text = body.get("expirationTime")
    if text is None:
        return None
    if kind in ("domain", "anyone"):
        raise GoogleApiError(403, "cannotSetExpirationOnAnyoneOrDomain",
                             "Expiration dates cannot be set on anyone or domain permissions.")
    if role == "owner":
        raise GoogleApiError(403, "cannotSetExpiration",
                             "Expiration dates cannot be set on this item.")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise invalid_value("permission.expirationTime", "Invalid value for expirationTime: "
                            f"{text!r} is not an RFC 3339 date-time.") from None
    if moment.tzinfo is None:
        raise invalid_value("permission.expirationTime",
                            "expirationTime needs a time zone offset, such as Z.")
    expires = moment.timestamp()
    if expires <= now:
        raise GoogleApiError(400, "expirationDatesMustBeInTheFuture",
                             "Expiration dates must be in the future.")
    if expires > now + MAX_EXPIRY_SECONDS:
        raise bad_request("Expiration dates cannot be more than a year in the future.")
    return expires


def grantee(ws: Workspace, body: Json, kind: str, role: str, expires: float | None) -> Grant:
    email, domain = body.get("emailAddress"), body.get("domain")
    discovery_flag = body.get("allowFileDiscovery")
    if kind in ("user", "group"):
        if not email:
            raise _required("emailAddress")
        if discovery_flag is not None:
            raise bad_request("allowFileDiscovery applies only to domain and anyone permissions.")
        if kind == "user":
            return ws.user_grant(email, role, expires)
        return Grant(grantee_permission_id(email), "group", role, email=email.lower(),
                     expires=expires)
    if email:
        raise bad_request(f"emailAddress is not allowed for permissions of type {kind}.")
    discoverable = bool(discovery_flag)
    if kind == "domain":
        if not domain:
            raise _required("domain")
        suffix = "" if discoverable else "k"
        perm_id = grantee_permission_id(f"domain:{domain}")[:19] + suffix
        return Grant(perm_id, "domain", role, domain=domain.lower(), discoverable=discoverable)
    if domain:
        raise bad_request("domain is not allowed for permissions of type anyone.")
    perm_id = "anyone" if discoverable else "anyoneWithLink"
    return Grant(perm_id, "anyone", role, discoverable=discoverable)


def _check_role_fits(ws: Workspace, row: int, role: str, kind: str, transfer: bool) -> None:
    in_drive = ws.drive_of(row) is not None
    if role == "owner":
        if in_drive:
            raise GoogleApiError(403, "ownerOnTeamDriveItemNotSupported",
                                 "Items in shared drives cannot have an owner permission.")
        if not transfer:
            raise GoogleApiError(403, "forbidden", TRANSFER_RULE, location="transferOwnership")
        if kind != "user":
            raise bad_request("Only a user can own a file.")
    elif role == "organizer":
        reason = ("organizerOnNonTeamDriveItemNotSupported" if in_drive
                  else "organizerOnNonTeamDriveNotSupported")
        raise GoogleApiError(403, reason, "The organizer role is only for shared drives.")
    elif role == "fileOrganizer":
        if not in_drive:
            raise GoogleApiError(403, "fileOrganizerOnNonTeamDriveNotSupported",
                                 "The fileOrganizer role is only for items in shared drives.")
        if ws.files.mime_type(row) != FOLDER:
            raise GoogleApiError(403, "fileOrganizerOnFoldersInSharedDriveOnly",
                                 "The fileOrganizer role can only be set on folders.")


def create(ws: Workspace, actor: User, row: int, body: Any, params: Json) -> Grant:
    body = check_body(body)
    kind = _choice(body, "type", TYPES)
    role = _choice(body, "role", ROLES)
    transfer = bool(params.get("transferOwnership"))
    _check_role_fits(ws, row, role, kind, transfer)
    send = params.get("sendNotificationEmail")
    if (send is not None and kind not in ("user", "group")) or (role == "owner" and send is False):
        raise GoogleApiError(403, "forbidden", SEND_NOTIFICATION_RULE,
                             location="sendNotificationEmail")
    grant = grantee(ws, body, kind, role, _expiry(body, kind, role, ws.clock()))
    if role == "owner":
        transfer_ownership(ws, row, grant)
        ws.notify("ownership", grant.email or "", actor.email, row, role,
                  params.get("emailMessage"))
        return grant
    owner = ws.owner_of(row)
    if owner is not None and grant.email == owner.email:
        return ws.accesses(row)[0].grant  # sharing with the owner changes nothing
    put_grant(ws, row, grant)
    if kind in ("user", "group") and send is not False:
        ws.notify("share", grant.email or "", actor.email, row, role, params.get("emailMessage"))
    return grant


def put_grant(ws: Workspace, row: int, grant: Grant) -> None:
    """Add ``grant`` (or replace the grantee's previous one) and record the change."""
    kept = tuple(g for g in ws.live_grants(row) if g.id != grant.id)
    ws.files.set_grants(row, (*kept, grant))
    ws.record_change(row, also=[grant.email] if grant.email else ())


def remove_grant(ws: Workspace, row: int, grant: Grant) -> None:
    kept = tuple(g for g in ws.live_grants(row) if g.id != grant.id)
    ws.files.set_grants(row, kept)
    ws.record_change(row, also=[grant.email] if grant.email else ())


def transfer_ownership(ws: Workspace, row: int, grant: Grant) -> None:
    """The new owner takes the file; the old owner stays on as a writer."""
    old = ws.owner_of(row)
    new = ws.directory.get(grant.email)
    assert old is not None
    if new is None or new.domain != old.domain:
        raise GoogleApiError(403, "ownershipChangeAcrossDomainNotPermitted",
                             "Ownership can only be transferred to another user in the "
                             "same organization as the current owner.")
    kept = tuple(g for g in ws.live_grants(row) if g.id != new.permission_id)
    ws.files.set_grants(row, (*kept, ws.user_grant(old.email, "writer")))
    ws.files.move_home(row, new.index)
    ws.record_change(row, also=[old.email])


def _find(ws: Workspace, row: int, permission_id: str) -> Access:
    for access in ws.accesses(row):
        if access.grant.id == permission_id:
            return access
    raise permission_not_found(permission_id)


def _direct(ws: Workspace, row: int, access: Access) -> Grant:
    """The grant set on the item itself; inherited or owner grants cannot be changed."""
    if access.grant.role == "owner" and ws.drive_of(row) is None:
        raise GoogleApiError(403, "cannotRemoveOwner",
                             "The owner's permission cannot be changed or removed; "
                             "transfer ownership to another user first.")
    for grant in ws.live_grants(row):
        if grant.id == access.grant.id:
            return grant
    raise GoogleApiError(403, "cannotModifyInheritedTeamDrivePermission",
                         "Inherited permissions of a shared drive item cannot be changed here; "
                         "change them where they are set.")


def update(ws: Workspace, actor: User, row: int, permission_id: str, body: Any,
           params: Json) -> Grant:
    body = check_body(body)
    current = _direct(ws, row, _find(ws, row, permission_id))
    shown = {"type": current.type, "emailAddress": current.email, "domain": current.domain}
    for name, value in shown.items():
        if name in body and body[name] != value:
            raise not_writable()  # Drive cannot retype a grant: delete it and create anew
    role = _choice(body, "role", ROLES) if "role" in body else current.role
    if role == "owner":
        _check_role_fits(ws, row, role, current.type, bool(params.get("transferOwnership")))
        transfer_ownership(ws, row, current)
        ws.notify("ownership", current.email or "", actor.email, row, role, None)
        return Grant(current.id, "user", "owner", email=current.email)
    _check_role_fits(ws, row, role, current.type, False)
    expires = current.expires
    if "expirationTime" in body:
        expires = _expiry(body, current.type, role, ws.clock())
    if params.get("removeExpiration"):
        expires = None
    discoverable = current.discoverable
    if "allowFileDiscovery" in body:
        if current.type not in ("domain", "anyone"):
            raise bad_request("allowFileDiscovery applies only to domain and anyone permissions.")
        discoverable = body["allowFileDiscovery"]
    grant = Grant(current.id, current.type, role, current.email, current.domain,
                  discoverable, expires)
    put_grant(ws, row, grant)
    return grant


def delete(ws: Workspace, actor: User, row: int, permission_id: str) -> None:
    grant = _direct(ws, row, _find(ws, row, permission_id))
    remove_grant(ws, row, grant)
