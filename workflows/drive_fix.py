"""Fix it for me, for Drive: remove the outside share, or narrow a link to the company.

Drive cannot change a permission's type, so narrowing "anyone with the link"
to the company domain creates the domain permission first (same role) and
then deletes the link: at no moment is the owner's team locked out. A
permission someone already removed counts as removed, so a retried fix, or a
fix racing the owner's own click in Drive, ends the same way.
"""

from __future__ import annotations

import logging

from googleapiclient.errors import HttpError

from integrations.google import GoogleWorkspace

log = logging.getLogger(__name__)

LINK_RULES = {"anyone_with_link", "public_on_web"}


class DriveRemediator:
    def __init__(self, workspace: GoogleWorkspace, company_domain: str, link_fix: str) -> None:
        self._workspace = workspace
        self._company_domain = company_domain
        self._link_fix = link_fix

    def fix(self, finding: dict) -> str:
        drive = self._workspace.drive(self._acting_user(finding))
        file_id, details = finding["subject_id"], finding["details"]
        narrow = finding["rule"] in LINK_RULES and self._link_fix == "restrict_to_domain"
        if narrow:
            body = {"type": "domain", "domain": self._company_domain,
                    "role": details["role"], "allowFileDiscovery": False}  # fmt: skip
            drive.create_permission(file_id, body)
        self._delete(drive, file_id, details["permission_id"])
        if narrow:
            return f"limited the link to {self._company_domain} as {details['role']}"
        return f"removed access for {details['shared_with']}"

    def _acting_user(self, finding: dict) -> str:
        # Shared-drive items have the drive as owner: the scan noted a member
        # who can change their sharing.
        owner = finding["owner"]
        if "@" in owner:
            return owner
        return finding["details"].get("act_as") or self._workspace.admin_email

    def _delete(self, drive, file_id: str, permission_id: str) -> None:
        try:
            drive.delete_permission(file_id, permission_id)
        except HttpError as error:
            if error.resp.status != 404:
                raise
            log.info("drive.permission_already_gone", extra={"file_id": file_id})
