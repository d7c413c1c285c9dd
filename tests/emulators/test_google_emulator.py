"""The Google emulator answers the real google-auth and googleapiclient as Google does."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import google.auth.transport.requests
import pytest
from google.auth import crypt, jwt
from google.auth.exceptions import RefreshError
from google.oauth2 import _client as oauth_client
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from tests.emulators.google import FOLDER, GoogleEmulator
from tests.emulators.google.__main__ import seed

DRIVE = "https://www.googleapis.com/auth/drive"
DIRECTORY = "https://www.googleapis.com/auth/admin.directory.user.readonly"
GMAIL = "https://www.googleapis.com/auth/gmail.readonly"
SCAN_FIELDS = (
    "nextPageToken, files(id,name,mimeType,webViewLink,parents,owners(emailAddress,"
    "displayName),permissions(id,type,role,emailAddress,domain,allowFileDiscovery,"
    "displayName,deleted))"
)
PERMISSION_FIELDS = (
    "nextPageToken, permissions(id,type,role,emailAddress,domain,allowFileDiscovery,"
    "permissionDetails)"
)
CHANGE_FIELDS = (
    "nextPageToken,newStartPageToken,changes(fileId,removed,changeType,time,"
    "file(id,name,permissions(id,type,role)))"
)
PEOPLE = ["alice", "bob", "carol", "erin", "frank", "grace", "heidi", "ivan", "judy"]


class Clients:
    """Real API clients for the emulator, one per (service, user), built lazily."""

    def __init__(self, emu: GoogleEmulator, info: dict[str, Any]) -> None:
        self.emu = emu
        self.info = info
        self._built: dict[tuple[str, str, str], Any] = {}

    def credentials(self, subject: str | None, scopes: list[str]) -> Any:
        return service_account.Credentials.from_service_account_info(
            self.info, scopes=scopes, subject=subject
        )

    def build(self, api: str, version: str, subject: str, scope: str,
              endpoint: str | None = None) -> Any:
        key = (api, subject, scope)
        if key not in self._built or endpoint:
            service = build(
                api, version, credentials=self.credentials(subject, [scope]),
                static_discovery=True,
                client_options={"api_endpoint": endpoint or self.emu.url},
            )
            if endpoint:
                return service
            self._built[key] = service
        return self._built[key]

    def drive(self, who: str) -> Any:
        return self.build("drive", "v3", f"{who}@example.com", DRIVE)

    def directory(self, who: str) -> Any:
        return self.build("admin", "directory_v1", f"{who}@example.com", DIRECTORY)


@pytest.fixture(scope="module")
def emu() -> Iterator[GoogleEmulator]:
    with GoogleEmulator(seed=7) as emulator:
        emulator.add_user("admin@example.com", "Ada Admin", admin=True)
        for person in PEOPLE:
            emulator.add_user(f"{person}@example.com")
        emulator.add_user("dave@example.com", suspended=True)
        yield emulator


@pytest.fixture(scope="module")
def info(emu: GoogleEmulator) -> dict[str, Any]:
    key = emu.service_account_info()
    emu.grant_delegation(key["client_id"], [DRIVE, DIRECTORY])
    return key


@pytest.fixture(scope="module")
def clients(emu: GoogleEmulator, info: dict[str, Any]) -> Clients:
    return Clients(emu, info)


def reason_of(error: HttpError) -> str:
    return error.error_details[0]["reason"]


def refresh(credentials: Any) -> None:
    credentials.refresh(google.auth.transport.requests.Request())


def later(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat().replace("+00:00", "Z")


# -- the token endpoint ---------------------------------------------------------------


def test_a_delegated_service_account_gets_a_bearer_token(clients: Clients) -> None:
    """The jwt-bearer grant returns Google's token answer, good for an hour."""
    credentials = clients.credentials("alice@example.com", [DRIVE])

    refresh(credentials)

    assert credentials.token.startswith("ya29.")
    assert 3500 < (credentials.expiry - datetime.now(UTC).replace(tzinfo=None)).seconds < 3600


def test_a_key_the_emulator_does_not_trust_is_refused(emu: GoogleEmulator,
                                                      info: dict[str, Any]) -> None:
    """A JWT signed by another key fails the signature check."""
    stranger = GoogleEmulator().service_account_info()
    forged = {**info, "private_key": stranger["private_key"]}
    credentials = service_account.Credentials.from_service_account_info(
        forged, scopes=[DRIVE], subject="alice@example.com"
    )

    with pytest.raises(RefreshError, match="invalid_grant: Invalid JWT Signature."):
        refresh(credentials)


def _assertion(info: dict[str, Any], **claims: Any) -> bytes:
    now = int(time.time())
    payload = {"iss": info["client_email"], "aud": "https://oauth2.googleapis.com/token",
               "scope": DRIVE, "iat": now, "exp": now + 3600, "sub": "alice@example.com"}
    payload.update(claims)
    signer = crypt.RSASigner.from_service_account_info(info)
    return jwt.encode(signer, payload)


def test_a_jwt_for_another_audience_is_refused(emu: GoogleEmulator,
                                               info: dict[str, Any]) -> None:
    """The assertion's aud must be Google's token endpoint."""
    assertion = _assertion(info, aud="https://example.com/token")

    with pytest.raises(RefreshError, match="Failed audience check"):
        oauth_client.jwt_grant(
            google.auth.transport.requests.Request(), emu.token_uri, assertion,
            can_retry=False,
        )


def test_a_jwt_that_lives_longer_than_an_hour_is_refused(emu: GoogleEmulator,
                                                         info: dict[str, Any]) -> None:
    now = int(time.time())
    assertion = _assertion(info, iat=now, exp=now + 7200)

    with pytest.raises(RefreshError, match="short-lived token"):
        oauth_client.jwt_grant(
            google.auth.transport.requests.Request(), emu.token_uri, assertion,
            can_retry=False,
        )


def test_a_scope_the_admin_did_not_delegate_is_unauthorized(clients: Clients) -> None:
    credentials = clients.credentials("alice@example.com", [DRIVE, GMAIL])

    with pytest.raises(RefreshError, match="unauthorized_client: Client is unauthorized"):
        refresh(credentials)


@pytest.mark.parametrize("subject", ["nobody@example.com", "dave@example.com"])
def test_only_active_directory_users_can_be_impersonated(clients: Clients, subject: str) -> None:
    """Unknown and suspended users cannot be a JWT's subject."""
    credentials = clients.credentials(subject, [DRIVE])

    with pytest.raises(RefreshError, match="invalid_grant: Invalid email or User ID"):
        refresh(credentials)


def test_api_calls_need_a_token_and_the_right_scope(emu: GoogleEmulator,
                                                    clients: Clients) -> None:
    """No token is 401 UNAUTHENTICATED; a directory-only token cannot read Drive."""
    with pytest.raises(urllib.error.HTTPError) as unauthenticated:
        urllib.request.urlopen(emu.url + "files")
    body = json.loads(unauthenticated.value.read())
    drive_as_directory = clients.build("drive", "v3", "alice@example.com", DIRECTORY)

    with pytest.raises(HttpError) as no_scope:
        drive_as_directory.files().list().execute()

    assert unauthenticated.value.code == 401
    assert body["error"]["status"] == "UNAUTHENTICATED"
    assert body["error"]["errors"][0]["reason"] == "required"
    assert no_scope.value.status_code == 403
    assert reason_of(no_scope.value) == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"


def test_a_revoked_token_is_refreshed_by_the_client(emu: GoogleEmulator,
                                                    clients: Clients) -> None:
    """On 401 the authorized http fetches a new token and retries once."""
    drive = clients.drive("alice")
    drive.files().list(pageSize=1).execute()
    before = emu.request_counts().get("oauth.token", 0)

    emu.revoke_tokens()
    drive.files().list(pageSize=1).execute()

    assert emu.request_counts()["oauth.token"] == before + 1


# -- Admin Directory --------------------------------------------------------------------


def test_an_admin_pages_through_every_user(clients: Clients) -> None:
    directory = clients.directory("admin")
    request = directory.users().list(
        customer="my_customer", maxResults=4, fields="nextPageToken,users(primaryEmail,"
        "suspended,name/fullName)",
    )
    pages = []
    while request is not None:
        page = request.execute()
        pages.append(page["users"])
        request = directory.users().list_next(request, page)

    emails = [user["primaryEmail"] for page in pages for user in page]
    assert [len(page) for page in pages] == [4, 4, 3]
    assert emails == sorted(emails) and "dave@example.com" in emails
    assert pages[0][0] == {"primaryEmail": "admin@example.com", "suspended": False,
                           "name": {"fullName": "Ada Admin"}}


def test_a_non_admin_cannot_read_the_directory(clients: Clients) -> None:
    with pytest.raises(HttpError) as refused:
        clients.directory("alice").users().list(customer="my_customer").execute()

    assert refused.value.status_code == 403
    assert refused.value.reason == "Not Authorized to access this resource/api"
    assert reason_of(refused.value) == "forbidden"


def test_users_list_refuses_more_than_500_per_page(clients: Clients) -> None:
    with pytest.raises(HttpError) as refused:
        clients.directory("admin").users().list(customer="my_customer",
                                               maxResults=501).execute()

    assert refused.value.status_code == 400
    assert "[1, 500]" in refused.value.reason


# -- files.list --------------------------------------------------------------------------


def names(answer: dict[str, Any]) -> set[str]:
    return {item["name"] for item in answer["files"]}


def test_the_q_forms_warden_uses(emu: GoogleEmulator, clients: Clients) -> None:
    folder = emu.add_folder("grace@example.com", "Q folder")
    emu.add_file("grace@example.com", "Q inside", parents=[folder])
    emu.trash(emu.add_file("grace@example.com", "Q trashed"))
    emu.share(emu.add_file("heidi@example.com", "Q from heidi"), "user", "reader",
              email="grace@example.com")
    drive = clients.drive("grace")

    def listed(q: str) -> set[str]:
        return names(drive.files().list(q=q, corpora="user", pageSize=1000).execute())

    assert listed("'me' in owners and trashed = false") == {"Q folder", "Q inside"}
    assert listed("trashed = true") == {"Q trashed"}
    assert listed(f"'{folder}' in parents") == {"Q inside"}
    assert listed(f"mimeType = '{FOLDER}'") == {"Q folder"}
    assert listed(f"mimeType != '{FOLDER}' and 'me' in owners") == {"Q inside", "Q trashed"}
    assert listed("'heidi@example.com' in owners") == {"Q from heidi"}


@pytest.mark.parametrize("q", [
    "name contains 'report'", "'me' in owners or trashed = false", "not trashed",
    "(trashed = false)", "trashed = maybe", "'me' in writers",
])
def test_a_query_the_emulator_cannot_evaluate_is_invalid(clients: Clients, q: str) -> None:
    with pytest.raises(HttpError) as refused:
        clients.drive("alice").files().list(q=q).execute()

    assert refused.value.status_code == 400
    assert refused.value.error_details[0] == {
        "message": "Invalid Value", "domain": "global", "reason": "invalid",
        "location": "q", "locationType": "parameter",
    }


def test_files_list_pages_at_1000_with_permissions_inline(emu: GoogleEmulator,
                                                          clients: Clients) -> None:
    """A page holds at most 1000 files; a larger pageSize is coerced to 1000."""
    emu.bulk_add_files("ivan@example.com", 2500, share_every=10)
    drive = clients.drive("ivan")
    request = drive.files().list(q="'me' in owners and trashed = false", corpora="user",
                                 pageSize=5000, fields=SCAN_FIELDS)
    files = []
    while request is not None:
        page = request.execute()
        files.append(page["files"])
        request = drive.files().list_next(request, page)

    assert [len(page) for page in files] == [1000, 1000, 500]
    public = [f for page in files for f in page if len(f["permissions"]) == 2]
    assert len(public) == 250
    assert public[0]["permissions"][1] == {
        "id": "anyoneWithLink", "type": "anyone", "role": "reader", "allowFileDiscovery": False,
    }
    assert public[0]["owners"] == [{"emailAddress": "ivan@example.com", "displayName": "Ivan"}]


def test_fields_masks_and_defaults(emu: GoogleEmulator, clients: Clients) -> None:
    file_id = emu.add_file("judy@example.com", "Masked")
    drive = clients.drive("judy")

    default = drive.files().get(fileId=file_id).execute()
    nested = drive.files().list(fields="files(id,owners(emailAddress))").execute()
    with pytest.raises(HttpError) as refused:
        drive.files().list(fields="files(id,colour)").execute()

    assert default == {"kind": "drive#file", "id": file_id, "name": "Masked",
                       "mimeType": "application/vnd.google-apps.document"}
    assert nested == {"files": [{"id": file_id, "owners": [{"emailAddress": "judy@example.com"}]}]}
    assert refused.value.status_code == 400
    assert reason_of(refused.value) == "invalidParameter"


# -- shared drives ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared(emu: GoogleEmulator) -> dict[str, str]:
    drive_id = emu.add_shared_drive("Finance", {
        "admin@example.com": "organizer", "frank@example.com": "writer",
    })
    folder = emu.add_drive_folder(drive_id, "Reports", "frank@example.com")
    report = emu.add_drive_file(drive_id, "Q3 report", "frank@example.com", parents=[folder])
    emu.share(folder, "user", "reader", email="erin@example.com")
    emu.share(report, "anyone", "reader")
    emu.share(report, "user", "writer", email="erin@example.com")
    return {"drive": drive_id, "folder": folder, "report": report}


def test_shared_drive_items_are_listed_without_permissions(shared: dict[str, str],
                                                           clients: Clients) -> None:
    listing = clients.drive("admin").files().list(
        corpora="drive", driveId=shared["drive"], includeItemsFromAllDrives=True,
        supportsAllDrives=True, q="trashed = false", pageSize=1000,
        fields="files(id,name,owners,permissions,permissionIds,hasAugmentedPermissions,"
        "driveId)",
    ).execute()

    report = next(f for f in listing["files"] if f["id"] == shared["report"])
    assert "permissions" not in report and "owners" not in report
    assert report["hasAugmentedPermissions"] is True
    assert "anyoneWithLink" in report["permissionIds"]
    assert report["driveId"] == shared["drive"]


def test_only_members_can_list_a_shared_drive(shared: dict[str, str],
                                              clients: Clients) -> None:
    with pytest.raises(HttpError) as refused:
        clients.drive("bob").files().list(
            corpora="drive", driveId=shared["drive"], includeItemsFromAllDrives=True,
            supportsAllDrives=True,
        ).execute()

    assert refused.value.status_code == 404
    assert refused.value.reason == f"Shared drive not found: {shared['drive']}"


def test_permission_details_say_where_access_comes_from(shared: dict[str, str],
                                                        clients: Clients) -> None:
    """Drive members inherit from the drive, folder grants from the folder."""
    answer = clients.drive("admin").permissions().list(
        fileId=shared["report"], supportsAllDrives=True, fields=PERMISSION_FIELDS
    ).execute()
    by_email = {p.get("emailAddress", p["id"]): p for p in answer["permissions"]}

    assert by_email["frank@example.com"]["permissionDetails"] == [
        {"permissionType": "member", "role": "writer", "inherited": True,
         "inheritedFrom": shared["drive"]},
    ]
    assert by_email["erin@example.com"]["role"] == "writer"
    assert by_email["erin@example.com"]["permissionDetails"] == [
        {"permissionType": "file", "role": "reader", "inherited": True,
         "inheritedFrom": shared["folder"]},
        {"permissionType": "file", "role": "writer", "inherited": False},
    ]
    assert by_email["anyoneWithLink"]["permissionDetails"][0]["inherited"] is False


def test_shared_drive_items_need_supports_all_drives(shared: dict[str, str],
                                                     clients: Clients) -> None:
    drive = clients.drive("admin")
    with pytest.raises(HttpError) as hidden:
        drive.files().get(fileId=shared["report"]).execute()

    found = drive.files().get(fileId=shared["report"], supportsAllDrives=True).execute()

    assert hidden.value.status_code == 404
    assert found["name"] == "Q3 report"


def test_admins_list_every_shared_drive(shared: dict[str, str], clients: Clients) -> None:
    everything = clients.drive("admin").drives().list(
        pageSize=100, useDomainAdminAccess=True
    ).execute()
    with pytest.raises(HttpError) as refused:
        clients.drive("bob").drives().list(useDomainAdminAccess=True).execute()

    assert {"kind": "drive#drive", "id": shared["drive"], "name": "Finance"} in (
        everything["drives"]
    )
    assert refused.value.status_code == 403


def test_admins_can_read_any_shared_drives_members(shared: dict[str, str],
                                                   clients: Clients) -> None:
    """permissions.list on a drive id, with domain admin access, finds its organizers."""
    members = clients.drive("admin").permissions().list(
        fileId=shared["drive"], supportsAllDrives=True, useDomainAdminAccess=True,
        fields="permissions(emailAddress,role)",
    ).execute()
    with pytest.raises(HttpError) as stranger:
        clients.drive("bob").permissions().list(
            fileId=shared["drive"], supportsAllDrives=True
        ).execute()

    assert members["permissions"] == [
        {"emailAddress": "admin@example.com", "role": "organizer"},
        {"emailAddress": "frank@example.com", "role": "writer"},
    ]
    assert stranger.value.status_code == 404


# -- sharing ---------------------------------------------------------------------------------


def test_sharing_with_a_user_sends_mail_unless_told_not_to(emu: GoogleEmulator,
                                                          clients: Clients) -> None:
    file_id = emu.add_file("alice@example.com", "Share me")
    permissions = clients.drive("alice").permissions()

    mailed = permissions.create(fileId=file_id, body={
        "type": "user", "role": "reader", "emailAddress": "auditor@partner.com",
    }).execute()
    quiet = permissions.create(fileId=file_id, sendNotificationEmail=False, body={
        "type": "user", "role": "writer", "emailAddress": "bob@example.com",
    }, fields="id,type,role,emailAddress").execute()

    mails = [n for n in emu.notifications() if n["file_id"] == file_id]
    assert [(m["to"], m["role"], m["from"]) for m in mails] == [
        ("auditor@partner.com", "reader", "alice@example.com"),
    ]
    assert mailed["kind"] == "drive#permission" and mailed["role"] == "reader"
    assert quiet["emailAddress"] == "bob@example.com"


@pytest.mark.parametrize(("body", "code", "reason", "text"), [
    ({"type": "user", "role": "reader", "emailAddress": "x@y.com", "colour": "red"},
     400, "invalid", 'Invalid JSON payload received. Unknown name "colour"'),
    ({"role": "reader"}, 400, "required", "The permission type field is required."),
    ({"type": "user", "role": "reader"}, 400, "required", "emailAddress field is required"),
    ({"type": "domain", "role": "reader"}, 400, "required", "domain field is required"),
    ({"type": "robot", "role": "reader"}, 400, "invalid", "type 'robot' is invalid"),
    ({"type": "anyone", "role": "boss"}, 400, "invalid", "role 'boss' is invalid"),
    ({"type": "user", "role": "reader", "emailAddress": "x@y.com",
      "allowFileDiscovery": True}, 400, "badRequest", "allowFileDiscovery"),
    ({"type": "anyone", "role": "reader", "allowFileDiscovery": "yes"},
     400, "invalid", "TYPE_BOOL"),
    ({"type": "anyone", "role": "reader", "id": "mine"}, 403, "fieldNotWritable", "writable"),
    ({"type": "user", "role": "organizer", "emailAddress": "x@y.com"},
     403, "organizerOnNonTeamDriveNotSupported", "organizer"),
])
def test_permission_bodies_are_checked_against_the_schema(
    emu: GoogleEmulator, clients: Clients, body: dict[str, Any], code: int, reason: str,
    text: str,
) -> None:
    file_id = emu.add_file("alice@example.com", "Strict")

    with pytest.raises(HttpError) as refused:
        clients.drive("alice").permissions().create(fileId=file_id, body=body).execute()

    assert refused.value.status_code == code
    assert text in refused.value.reason
    details = refused.value.error_details[0]
    assert details.get("reason", "invalid") == reason or "fieldViolations" in details


@pytest.mark.parametrize(("body", "params", "code", "reason"), [
    ({"type": "user", "emailAddress": "x@y.com", "expirationTime": later(-1)}, {},
     400, "expirationDatesMustBeInTheFuture"),
    ({"type": "user", "emailAddress": "x@y.com", "expirationTime": later(400)}, {},
     400, "badRequest"),
    ({"type": "anyone", "expirationTime": later(3)}, {}, 403,
     "cannotSetExpirationOnAnyoneOrDomain"),
    ({"type": "anyone"}, {"sendNotificationEmail": False}, 403, "forbidden"),
    ({"type": "user", "emailAddress": "bob@example.com", "role": "owner"}, {}, 403,
     "forbidden"),
    ({"type": "user", "emailAddress": "bob@example.com", "role": "owner"},
     {"transferOwnership": True, "sendNotificationEmail": False}, 403, "forbidden"),
])
def test_drive_sharing_rules(emu: GoogleEmulator, clients: Clients, body: dict[str, Any],
                             params: dict[str, Any], code: int, reason: str) -> None:
    file_id = emu.add_file("alice@example.com", "Rules")
    body = {"role": "reader", **body}

    with pytest.raises(HttpError) as refused:
        clients.drive("alice").permissions().create(fileId=file_id, body=body,
                                                    **params).execute()

    assert (refused.value.status_code, reason_of(refused.value)) == (code, reason)


def test_a_grant_can_expire_within_a_year(emu: GoogleEmulator, clients: Clients) -> None:
    file_id = emu.add_file("alice@example.com", "Temporary")
    expiry = later(3)

    created = clients.drive("alice").permissions().create(fileId=file_id, body={
        "type": "user", "role": "reader", "emailAddress": "auditor@partner.com",
        "expirationTime": expiry,
    }, sendNotificationEmail=False, fields="id,expirationTime").execute()

    assert created["expirationTime"][:19] == expiry[:19]


def test_ownership_moves_with_a_mail_and_the_old_owner_keeps_writing(
    emu: GoogleEmulator, clients: Clients,
) -> None:
    file_id = emu.add_file("alice@example.com", "Handover")

    clients.drive("alice").permissions().create(fileId=file_id, transferOwnership=True, body={
        "type": "user", "role": "owner", "emailAddress": "carol@example.com",
    }).execute()

    roles = {p["emailAddress"]: p["role"] for p in emu.permissions(file_id)}
    assert roles == {"carol@example.com": "owner", "alice@example.com": "writer"}
    assert emu.notifications()[-1]["kind"] == "ownership"


def test_narrowing_a_public_link_needs_delete_then_create(emu: GoogleEmulator,
                                                          clients: Clients) -> None:
    """The type of a permission cannot be updated; the role can."""
    file_id = emu.add_file("alice@example.com", "Too public")
    public = emu.share(file_id, "anyone", "writer")
    permissions = clients.drive("alice").permissions()

    with pytest.raises(HttpError) as retyped:
        permissions.update(fileId=file_id, permissionId=public,
                           body={"type": "domain", "domain": "example.com"}).execute()
    permissions.update(fileId=file_id, permissionId=public, body={"role": "reader"}).execute()
    narrowed = emu.permissions(file_id)[1]["role"]
    permissions.delete(fileId=file_id, permissionId=public).execute()
    permissions.create(fileId=file_id, body={
        "type": "domain", "role": "reader", "domain": "example.com",
    }).execute()

    assert (retyped.value.status_code, reason_of(retyped.value)) == (403, "fieldNotWritable")
    assert narrowed == "reader"
    assert [p["type"] for p in emu.permissions(file_id)] == ["user", "domain"]


def test_deleting_permissions(emu: GoogleEmulator, clients: Clients) -> None:
    file_id = emu.add_file("alice@example.com", "Delete")
    owner_id = emu.permissions(file_id)[0]["id"]
    permissions = clients.drive("alice").permissions()

    with pytest.raises(HttpError) as owner:
        permissions.delete(fileId=file_id, permissionId=owner_id).execute()
    with pytest.raises(HttpError) as unknown:
        permissions.delete(fileId=file_id, permissionId="123").execute()

    assert reason_of(owner.value) == "cannotRemoveOwner"
    assert (unknown.value.status_code, reason_of(unknown.value)) == (404, "notFound")


def test_readers_cannot_share_and_strangers_cannot_see(emu: GoogleEmulator,
                                                       clients: Clients) -> None:
    file_id = emu.add_file("alice@example.com", "Private")
    emu.share(file_id, "user", "reader", email="bob@example.com")
    body = {"type": "anyone", "role": "reader"}

    with pytest.raises(HttpError) as reader:
        clients.drive("bob").permissions().create(fileId=file_id, body=body).execute()
    with pytest.raises(HttpError) as stranger:
        clients.drive("carol").files().get(fileId=file_id).execute()

    assert (reader.value.status_code, reason_of(reader.value)) == (
        403, "insufficientFilePermissions")
    assert stranger.value.status_code == 404
    assert stranger.value.reason == f"File not found: {file_id}."


# -- the changes feed -------------------------------------------------------------------------


def read_changes(drive: Any, token: str, **extra: Any) -> tuple[list[dict[str, Any]], str]:
    changes = []
    request = drive.changes().list(pageToken=token, pageSize=2, fields=CHANGE_FIELDS, **extra)
    while True:
        page = request.execute()
        changes += page["changes"]
        if "newStartPageToken" in page:
            return changes, page["newStartPageToken"]
        request = drive.changes().list(pageToken=page["nextPageToken"], pageSize=2,
                                       fields=CHANGE_FIELDS, **extra)


def test_sharing_and_unsharing_show_in_the_owners_feed(emu: GoogleEmulator,
                                                       clients: Clients) -> None:
    drive = clients.drive("erin")
    token = drive.changes().getStartPageToken().execute()["startPageToken"]
    quiet = emu.add_file("erin@example.com", "Quiet")
    loud = emu.add_file("erin@example.com", "Loud")
    public = emu.share(loud, "anyone", "reader")

    first, token = read_changes(drive, token)
    emu.unshare(loud, public)
    second, token = read_changes(drive, token)
    third, _ = read_changes(drive, token)

    assert [c["fileId"] for c in first] == [quiet, loud]
    assert [p["type"] for p in first[1]["file"]["permissions"]] == ["user", "anyone"]
    assert [c["fileId"] for c in second] == [loud]
    assert second[0]["file"]["permissions"] == [
        {"id": second[0]["file"]["permissions"][0]["id"], "type": "user", "role": "owner"},
    ]
    assert third == []


def test_a_grantee_sees_the_file_removed_when_access_ends(emu: GoogleEmulator,
                                                          clients: Clients) -> None:
    drive = clients.drive("heidi")
    token = drive.changes().getStartPageToken().execute()["startPageToken"]
    file_id = emu.add_file("erin@example.com", "Lent")
    grant = emu.share(file_id, "user", "reader", email="heidi@example.com")
    emu.unshare(file_id, grant)

    changes, _ = read_changes(drive, token)

    assert [(c["fileId"], c["removed"]) for c in changes] == [(file_id, True)]
    assert "file" not in changes[0]


def test_a_shared_drive_has_its_own_feed(emu: GoogleEmulator, shared: dict[str, str],
                                         clients: Clients) -> None:
    drive = clients.drive("frank")
    token = drive.changes().getStartPageToken(
        driveId=shared["drive"], supportsAllDrives=True
    ).execute()["startPageToken"]
    emu.share(shared["report"], "domain", "reader", domain="partner.com")
    extra = {"driveId": shared["drive"], "includeItemsFromAllDrives": True,
             "supportsAllDrives": True}

    changes, new_token = read_changes(drive, token, **extra)

    mine, _ = read_changes(drive, token, includeItemsFromAllDrives=True,
                           supportsAllDrives=True)
    without_drives, _ = read_changes(drive, token)

    assert [c["fileId"] for c in changes] == [shared["report"]]
    assert "permissions" not in changes[0]["file"]
    assert int(new_token) > int(token)
    assert [c["fileId"] for c in mine] == [shared["report"]]
    assert without_drives == []


# -- faults and counts ---------------------------------------------------------------------


@pytest.mark.parametrize(("status", "reason", "domain"), [
    (403, "rateLimitExceeded", "usageLimits"),
    (429, "rateLimitExceeded", "usageLimits"),
    (500, "backendError", "global"),
])
def test_injected_faults_look_like_googles(emu: GoogleEmulator, clients: Clients,
                                           status: int, reason: str, domain: str) -> None:
    emu.fail_next("drive.permissions.list", status=status, reason=reason)
    file_id = emu.add_file("alice@example.com", "Faulty")
    permissions = clients.drive("alice").permissions()

    with pytest.raises(HttpError) as failed:
        permissions.list(fileId=file_id).execute()
    recovered = permissions.list(fileId=file_id).execute()

    assert failed.value.status_code == status
    assert failed.value.error_details[0]["reason"] == reason
    assert failed.value.error_details[0]["domain"] == domain
    assert (failed.value.resp.get("retry-after") == "1") == (status == 429)
    assert len(recovered["permissions"]) == 1


def test_a_denied_user_cannot_read_their_drive(emu: GoogleEmulator, clients: Clients) -> None:
    emu.deny_user("judy@example.com")
    try:
        with pytest.raises(HttpError) as denied:
            clients.drive("judy").files().list().execute()
    finally:
        emu.deny_user("judy@example.com", denied=False)

    assert (denied.value.status_code, reason_of(denied.value)) == (403, "domainPolicy")


def test_request_counts_are_per_method(emu: GoogleEmulator, clients: Clients) -> None:
    drive = clients.drive("alice")
    drive.files().list(pageSize=1).execute()
    emu.reset_counts()

    drive.files().list(pageSize=1).execute()
    drive.files().list(pageSize=1).execute()
    drive.changes().getStartPageToken().execute()

    assert emu.request_counts() == {
        "drive.files.list": 2, "drive.changes.getStartPageToken": 1,
    }


def test_the_google_url_layout_is_served_too(emu: GoogleEmulator, clients: Clients) -> None:
    """Clients built with an endpoint ending in drive/v3/ reach the same Drive."""
    file_id = emu.add_file("alice@example.com", "Layout")
    drive = clients.build("drive", "v3", "alice@example.com", DRIVE,
                          endpoint=emu.url + "drive/v3/")

    assert drive.files().get(fileId=file_id).execute()["name"] == "Layout"


def test_the_standalone_seed_has_something_to_find() -> None:
    """python -m tests.emulators.google seeds public and outside shares."""
    with GoogleEmulator() as emulator:
        ids = seed(emulator)

        public = emulator.permissions(ids["public budget"])
        outside = emulator.permissions(ids["export"])

    assert public[-1]["type"] == "anyone"
    assert outside[-1] == {**outside[-1], "type": "domain", "domain": "partner.com"}
