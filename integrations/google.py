"""Google Workspace through google-api-python-client: users, Drive files,
permissions, shared drives and the changes feed.

Credentials are a service account with domain-wide delegation: the Admin
Directory is read as the admin named in settings, each user's Drive as that
user. The key file's `token_uri` is honoured as google-auth does, and
`api_endpoint` (tests: the emulator) replaces Google's base URL. Every call
goes through `google_retrying` and is counted per method for scan runs.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Iterator
from typing import Any

from google.oauth2 import service_account
from googleapiclient.discovery import Resource, build

from integrations.google_retry import google_retrying

DIRECTORY_SCOPE = "https://www.googleapis.com/auth/admin.directory.user.readonly"
DRIVE_SCOPE = "https://www.googleapis.com/auth/drive"

PERMISSION_FIELDS = (
    "id,type,role,emailAddress,domain,allowFileDiscovery,deleted,expirationTime"
)
FILE_FIELDS = (
    f"id,name,mimeType,webViewLink,parents,driveId,owners(emailAddress),"
    f"hasAugmentedPermissions,permissions({PERMISSION_FIELDS})"
)
MAX_PAGE_SIZE = 1000  # Drive's largest files.list page
DRIVES_KEPT_PER_THREAD = 8


class GoogleWorkspace:
    def __init__(
        self,
        key_info: dict[str, Any],
        admin_email: str,
        api_endpoint: str | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self._key_info = key_info
        self.admin_email = admin_email
        self._endpoint = api_endpoint
        self._stop = stop
        self.requests: Counter[str] = Counter()
        # One credential per (scope, user), reused until it expires: a new one
        # per call would cost a signed JWT and a token request every time.
        self._credentials: dict[tuple[str, str], service_account.Credentials] = {}
        self._credentials_lock = threading.Lock()
        self._local = threading.local()

    def users(self) -> Iterator[str]:
        """Primary emails of every active user, read as the admin."""
        directory = self._service("admin", "directory_v1", DIRECTORY_SCOPE, self.admin_email)
        token = None
        while True:
            page = self.execute(
                "directory.users.list",
                directory.users().list(
                    customer="my_customer",
                    maxResults=500,
                    pageToken=token,
                    fields="nextPageToken,users(primaryEmail,suspended)",
                ),
            )
            for user in page.get("users", []):
                if not user.get("suspended"):
                    yield user["primaryEmail"].lower()
            token = page.get("nextPageToken")
            if not token:
                return

    def drive(self, user_email: str) -> Drive:
        # A few recent services per thread: httplib2 connections are not
        # thread-safe, reusing one keeps its connection alive, and each holds
        # the parsed discovery document (under a megabyte), so a scan over
        # thousands of users must not keep them all.
        cache: OrderedDict[str, Drive] = self._local.__dict__.setdefault("drives", OrderedDict())
        if user_email in cache:
            cache.move_to_end(user_email)
            return cache[user_email]
        cache[user_email] = Drive(self, self._service("drive", "v3", DRIVE_SCOPE, user_email))
        if len(cache) > DRIVES_KEPT_PER_THREAD:
            cache.popitem(last=False)
        return cache[user_email]

    def execute(self, method: str, request) -> dict[str, Any]:
        """Run one request with retries, counting every attempt against `method`."""
        for attempt in google_retrying(self._stop):
            with attempt:
                self.requests[method] += 1
                return request.execute()
        raise AssertionError("unreachable: tenacity reraises")

    def _service(self, api: str, version: str, scope: str, subject: str) -> Resource:
        with self._credentials_lock:
            credentials = self._credentials.get((scope, subject))
            if credentials is None:
                credentials = service_account.Credentials.from_service_account_info(
                    self._key_info, scopes=[scope], subject=subject
                )
                self._credentials[(scope, subject)] = credentials
        options = {"api_endpoint": self._endpoint} if self._endpoint else None
        return build(
            api,
            version,
            credentials=credentials,
            client_options=options,
            static_discovery=True,
            cache_discovery=False,
        )


class Drive:
    """One user's view of Drive."""

    def __init__(self, workspace: GoogleWorkspace, service: Resource) -> None:
        self._workspace = workspace
        self._service = service

    def owned_files(self, page_token: str | None = None) -> Iterator[tuple[list[dict], str | None]]:
        """Pages of the user's own files, permissions included, with the next token."""
        query = "'me' in owners and trashed = false"
        yield from self._pages(page_token, q=query, corpora="user")

    def shared_drives(self) -> Iterator[dict]:
        token = None
        while True:
            page = self._execute(
                "drive.drives.list",
                self._service.drives().list(
                    pageSize=100, pageToken=token, useDomainAdminAccess=True,
                    fields="nextPageToken,drives(id,name)",
                ),
            )  # fmt: skip
            yield from page.get("drives", [])
            token = page.get("nextPageToken")
            if not token:
                return

    def drive_files(
        self, drive_id: str, page_token: str | None = None
    ) -> Iterator[tuple[list[dict], str | None]]:
        """Pages of a shared drive's files (Drive leaves their permissions out)."""
        yield from self._pages(
            page_token, q="trashed = false", corpora="drive", driveId=drive_id,
            includeItemsFromAllDrives=True, supportsAllDrives=True,
        )  # fmt: skip

    def permissions(self, file_id: str, as_admin: bool = False) -> list[dict]:
        """Every permission of a file; `as_admin` reads a shared drive we are not in."""
        found, token = [], None
        while True:
            page = self._execute(
                "drive.permissions.list",
                self._service.permissions().list(
                    fileId=file_id, supportsAllDrives=True, pageToken=token,
                    useDomainAdminAccess=as_admin or None,
                    fields=f"nextPageToken,permissions({PERMISSION_FIELDS},permissionDetails)",
                ),
            )  # fmt: skip
            found += page.get("permissions", [])
            token = page.get("nextPageToken")
            if not token:
                return found

    def file(self, file_id: str) -> dict:
        """A file's name, owners and shared drive, as this user sees it."""
        request = self._service.files().get(
            fileId=file_id, supportsAllDrives=True, fields="id,name,owners(emailAddress),driveId"
        )
        return self._execute("drive.files.get", request)

    def delete_permission(self, file_id: str, permission_id: str) -> None:
        request = self._service.permissions().delete(
            fileId=file_id, permissionId=permission_id, supportsAllDrives=True
        )
        self._execute("drive.permissions.delete", request)

    def create_permission(self, file_id: str, body: dict, notify: bool = False) -> dict:
        # Drive refuses sendNotificationEmail, even false, on domain and anyone
        # permissions: there is nobody to mail.
        mailable = body.get("type") in ("user", "group")
        request = self._service.permissions().create(
            fileId=file_id, body=body, supportsAllDrives=True, fields=PERMISSION_FIELDS,
            sendNotificationEmail=notify if mailable else None,
        )  # fmt: skip
        return self._execute("drive.permissions.create", request)

    def start_page_token(self, drive_id: str | None = None) -> str:
        request = self._service.changes().getStartPageToken(
            driveId=drive_id, supportsAllDrives=True
        )
        return self._execute("drive.changes.getStartPageToken", request)["startPageToken"]

    def changes(self, token: str, drive_id: str | None = None) -> Iterator[tuple[list[dict], str]]:
        """Pages of changes since `token`; each with the token to continue or start from."""
        while True:
            page = self._execute(
                "drive.changes.list",
                self._service.changes().list(
                    pageToken=token, driveId=drive_id, pageSize=MAX_PAGE_SIZE,
                    includeItemsFromAllDrives=True, supportsAllDrives=True,
                    fields=f"nextPageToken,newStartPageToken,"
                    f"changes(fileId,removed,changeType,file({FILE_FIELDS},trashed))",
                ),
            )  # fmt: skip
            token = page.get("nextPageToken") or page["newStartPageToken"]
            yield page.get("changes", []), token
            if "newStartPageToken" in page:
                return

    def _pages(self, page_token: str | None, **params) -> Iterator[tuple[list[dict], str | None]]:
        token = page_token
        while True:
            page = self._execute(
                "drive.files.list",
                self._service.files().list(
                    pageSize=MAX_PAGE_SIZE, pageToken=token,
                    fields=f"nextPageToken,files({FILE_FIELDS})", **params,
                ),
            )  # fmt: skip
            token = page.get("nextPageToken")
            yield page.get("files", []), token
            if not token:
                return

    def _execute(self, method: str, request) -> dict[str, Any]:
        return self._workspace.execute(method, request)
