"""How a grant becomes real, per kind: a Drive permission or a GitHub collaborator.

Each applier creates exactly one thing and returns a reference to it (JSON),
and removes exactly that thing later. Access the grantee already had before
is never adopted: the grant fails instead, so expiry cannot remove access
that Warden did not give.
"""

from __future__ import annotations

import json

from googleapiclient.errors import HttpError

from integrations.github import Access, GitHub
from integrations.google import GoogleWorkspace
from workflows.grants import Ownership


class AlreadyHasAccess(Exception):
    """The grantee already has access; Warden will not take over access it did not give."""


class DriveApplier:
    def __init__(self, workspace: GoogleWorkspace) -> None:
        self._workspace = workspace

    def ownership(self, resource: str, as_user: str) -> Ownership:
        """Read the file as the requester (who has its link) to learn its owner."""
        found = self._workspace.drive(as_user).file(resource)
        owners = [o["emailAddress"].lower() for o in found.get("owners") or []]
        return Ownership(found.get("name") or resource, owners)

    def apply(self, grant: dict, notify: bool) -> str:
        act_as = self._acting_user(grant)
        drive = self._workspace.drive(act_as)
        if self._mine(drive, grant) is not None:
            raise AlreadyHasAccess(f"{grant['grantee']} already has access to this file")
        body = {"type": "user", "role": grant["role"], "emailAddress": grant["grantee"]}
        created = drive.create_permission(grant["resource"], body, notify=notify)
        return json.dumps({"permission_id": created["id"], "act_as": act_as})

    def find(self, grant: dict) -> str | None:
        act_as = self._acting_user(grant)
        permission_id = self._mine(self._workspace.drive(act_as), grant)
        if permission_id is None:
            return None
        return json.dumps({"permission_id": permission_id, "act_as": act_as})

    def revoke(self, grant: dict) -> bool:
        ref = json.loads(grant["created_ref"])
        try:
            self._workspace.drive(ref["act_as"]).delete_permission(
                grant["resource"], ref["permission_id"]
            )
        except HttpError as error:
            if error.resp.status == 404:
                return False
            raise
        return True

    def _acting_user(self, grant: dict) -> str:
        owners = json.loads(grant["owner"] or "[]")
        return owners[0] if owners else self._workspace.admin_email

    def _mine(self, drive, grant: dict) -> str | None:
        for permission in drive.permissions(grant["resource"]):
            if (permission.get("emailAddress") or "").lower() == grant["grantee"].lower():
                return permission["id"]
        return None


class GitHubApplier:
    def __init__(self, github: GitHub) -> None:
        self._github = github

    def ownership(self, resource: str, as_user: str = "") -> Ownership:
        return Ownership(resource, self._github.admins(resource))

    def apply(self, grant: dict, notify: bool) -> str:
        if self._github.has_access(grant["resource"], grant["grantee"]):
            raise AlreadyHasAccess(f"{grant['grantee']} already has access to {grant['resource']}")
        access = self._github.grant(grant["resource"], grant["grantee"], grant["role"])
        return json.dumps({"kind": access.kind, "invitation_id": access.invitation_id})

    def find(self, grant: dict) -> str | None:
        access = self._github.existing_access(grant["resource"], grant["grantee"])
        if access is None:
            return None
        return json.dumps({"kind": access.kind, "invitation_id": access.invitation_id})

    def revoke(self, grant: dict) -> bool:
        ref = json.loads(grant["created_ref"])
        access = Access(ref["kind"], ref.get("invitation_id"))
        return self._github.revoke(grant["resource"], grant["grantee"], access)
