"""GoogleEmulator: the OAuth token endpoint, Drive v3 and Admin Directory.

The real google-auth and google-api-python-client talk to it::

    info = emu.service_account_info()
    creds = service_account.Credentials.from_service_account_info(
        info, scopes=[DRIVE], subject="alice@example.com")
    drive = build("drive", "v3", credentials=creds, static_discovery=True,
                  client_options={"api_endpoint": emu.url})

It runs aiohttp on its own asyncio loop in a daemon thread. Every public
method is synchronous and thread-safe (the workspace has one lock), so tests
and benchmark threads can set up and inspect the domain while a scan runs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from tests.emulators.loop_server import LoopServer

from . import directory_api, drive_api, sharing
from .errors import GoogleApiError, OAuthError
from .faults import TOKEN_METHOD, Faults
from .files import DOCUMENT, FOLDER, FileIds, Grant
from .oauth import TokenService
from .render import file_json, permission_json
from .wire import Api
from .workspace import Workspace

Json = dict[str, Any]


class GoogleEmulator(LoopServer):
    thread_name = "google-emulator"

    """A Workspace domain with Drive and a directory; see tests/emulators/google."""

    def __init__(self, domain: str = "example.com", *, port: int = 0,
                 clock: Callable[[], float] = time.time, seed: int | None = None) -> None:
        self.workspace = Workspace(domain, clock, seed)
        LoopServer.__init__(self, port)
        self.faults = Faults()
        self.tokens = TokenService(clock, lambda: self.token_uri, self._subject_ok)
        self.api = Api(self.workspace, self.tokens, self.faults)

    # -- lifecycle ---------------------------------------------------------

    @property
    def url(self) -> str:
        """What to pass as ``client_options={"api_endpoint": ...}`` for Drive and Directory."""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def token_uri(self) -> str:
        return f"{self.url}token"

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024**2)
        app.router.add_post("/token", self._token)
        drive_api.add_routes(app, self.api)
        directory_api.add_routes(app, self.api)
        return app

    async def _token(self, request: web.Request) -> web.Response:
        self.faults.count(TOKEN_METHOD)
        form = {key: str(value) for key, value in (await request.post()).items()}
        try:
            fault = self.faults.take(TOKEN_METHOD)
            if fault is not None:
                raise OAuthError(fault.status, "internal_failure", fault.message or "Backend Error")
            answer, status = self.tokens.exchange(form), 200
        except OAuthError as error:
            answer, status = error.to_json(), error.status
        return web.Response(status=status, text=json.dumps(answer),
                            content_type="application/json", charset="UTF-8")

    def _subject_ok(self, email: str) -> bool:
        with self.workspace.lock:
            return self.workspace.directory.active(email)

    # -- credentials ---------------------------------------------------------

    def service_account_info(self, client_id: str | None = None,
                             client_email: str | None = None) -> Json:
        """A service-account JSON key with a fresh RSA key the emulator trusts."""
        return self.tokens.new_key(client_id, client_email)

    def grant_delegation(self, client_id: str, scopes: list[str] | tuple[str, ...]) -> None:
        """Domain-wide delegation: the scopes this client id may use as any user."""
        self.tokens.grant_delegation(client_id, scopes)

    def revoke_tokens(self) -> None:
        """Invalidate every access token issued so far (clients must fetch new ones)."""
        self.tokens.revoke_tokens()

    # -- the domain ------------------------------------------------------------

    @property
    def domain(self) -> str:
        return self.workspace.directory.domain

    def add_user(self, email: str, name: str | None = None, admin: bool = False,
                 suspended: bool = False) -> str:
        """A directory user; returns the user's directory id."""
        return self.workspace.add_user(email, name, admin, suspended).id

    def set_suspended(self, email: str, suspended: bool = True) -> None:
        with self.workspace.lock:
            self.workspace.directory.require(email).suspended = suspended

    def add_file(self, owner_email: str, name: str, mime_type: str = DOCUMENT,
                 parents: list[str] | None = None) -> str:
        ws = self.workspace
        with ws.lock:
            return ws.files.id_of(ws.add_file(owner_email, name, mime_type, parents))

    def add_folder(self, owner_email: str, name: str, parents: list[str] | None = None) -> str:
        return self.add_file(owner_email, name, FOLDER, parents)

    def add_shared_drive(self, name: str, members: Mapping[str, str]) -> str:
        """A shared drive with members by email (organizer, writer, reader, ...)."""
        return self.workspace.add_shared_drive(name, members).id

    def add_drive_file(self, drive_id: str, name: str, creator_email: str,
                       mime_type: str = DOCUMENT, parents: list[str] | None = None) -> str:
        ws = self.workspace
        with ws.lock:
            row = ws.add_drive_file(drive_id, name, creator_email, mime_type, parents)
            return ws.files.id_of(row)

    def add_drive_folder(self, drive_id: str, name: str, creator_email: str,
                         parents: list[str] | None = None) -> str:
        return self.add_drive_file(drive_id, name, creator_email, FOLDER, parents)

    def bulk_add_files(
        self, owner: str | None, count: int, share_every: int = 0, *,
        share_type: str = "anyone", role: str = "reader", email: str | None = None,
        domain: str | None = None, allow_file_discovery: bool = False,
        mime_type: str = DOCUMENT, name_prefix: str = "File", drive_id: str | None = None,
        record_changes: bool = False,
    ) -> FileIds:
        """``count`` files named "<name_prefix> <n>", straight into the model (no HTTP).

        Every ``share_every``-th file (the 10th, 20th, ... for 10) is shared as
        ``share_type``/``role``. Files go to ``owner``'s My Drive, or to the
        shared drive ``drive_id`` (owner None). They are there "from before":
        no change is recorded unless ``record_changes``.
        """
        ws = self.workspace
        with ws.lock:
            share = None
            if share_every:
                share = self._grant(share_type, role, email, domain, allow_file_discovery, None)
            rows = ws.bulk_add(owner, drive_id, count, share_every, share, mime_type,
                               name_prefix, record_changes)
            return FileIds(ws.files, rows)

    def trash(self, file_id: str, trashed: bool = True) -> None:
        ws = self.workspace
        with ws.lock:
            row = ws.require_row(file_id)
            ws.files.set_trashed(row, trashed)
            ws.record_change(row)

    # -- sharing, as a person would in the Drive UI ------------------------------------

    def _grant(self, kind: str, role: str, email: str | None, domain: str | None,
               discoverable: bool | None, expires: float | None) -> Grant:
        if kind not in sharing.TYPES or role not in sharing.ROLES or role == "owner":
            raise ValueError(f"type is one of {sharing.TYPES}, role one of {sharing.ROLES[1:]}")
        body: Json = {"type": kind, "role": role}
        for key, value in (("emailAddress", email), ("domain", domain),
                           ("allowFileDiscovery", discoverable)):
            if value is not None:
                body[key] = value
        try:
            return sharing.grantee(self.workspace, body, kind, role, expires)
        except GoogleApiError as error:
            raise ValueError(error.message) from None

    def share(self, file_id: str, type: str, role: str, email: str | None = None,
              domain: str | None = None, allow_file_discovery: bool | None = None,
              expires_at: float | None = None) -> str:
        """Share an item (no email is sent); returns the permission id."""
        ws = self.workspace
        with ws.lock:
            row = ws.require_row(file_id)
            grant = self._grant(type, role, email, domain, allow_file_discovery, expires_at)
            sharing.put_grant(ws, row, grant)
            return grant.id

    def unshare(self, file_id: str, permission_id: str) -> None:
        ws = self.workspace
        with ws.lock:
            row = ws.require_row(file_id)
            for grant in ws.live_grants(row):
                if grant.id == permission_id:
                    sharing.remove_grant(ws, row, grant)
                    return
            raise KeyError(f"{file_id} has no direct permission {permission_id!r}")

    # -- faults and records --------------------------------------------------------

    def fail_next(self, method: str, status: int = 403, reason: str | None = None,
                  times: int = 1, retry_after: int | None = None,
                  message: str | None = None) -> None:
        """The next ``times`` calls of ``method`` (e.g. ``drive.files.list``) fail so.

        The reason defaults to Google's for the status: rateLimitExceeded for
        403 and 429 (which also carries Retry-After, 1 s unless given),
        backendError for 5xx.
        """
        self.faults.fail_next(method, status, reason, times, retry_after, message)

    def deny_user(self, email: str, denied: bool = True) -> None:
        """Every Drive call made as ``email`` answers 403 (their Drive is turned off)."""
        self.faults.deny_user(email, denied)

    def request_counts(self) -> dict[str, int]:
        return self.faults.counts()

    def reset_counts(self) -> None:
        self.faults.reset_counts()

    # -- readers -------------------------------------------------------------------

    def permissions(self, file_id: str) -> list[Json]:
        """Everyone with access, as permissions.list shows them (all fields)."""
        ws = self.workspace
        with ws.lock:
            row = ws.require_row(file_id)
            in_drive = ws.drive_of(row) is not None
            return [permission_json(ws, access, in_drive) for access in ws.accesses(row)]

    def file(self, file_id: str) -> Json:
        """The item with every modelled field, as its owner sees it."""
        ws = self.workspace
        with ws.lock:
            row = ws.require_row(file_id)
            return file_json(ws, row, ws.owner_of(row), None)

    def notifications(self) -> list[Json]:
        """The sharing emails Drive would have sent, oldest first."""
        with self.workspace.lock:
            return [dict(n) for n in self.workspace.notifications]

    def file_count(self) -> int:
        with self.workspace.lock:
            return len(self.workspace.files)
