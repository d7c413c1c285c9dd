"""The Workspace customer: its users, as Admin Directory shows them.

Each user also has the two ids Drive shows: the permission id (the same on
every file shared with them, as in Drive) and the id of their My Drive root.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

Json = dict[str, Any]
ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def rfc3339(moment: float) -> str:
    """Google's timestamps: UTC with milliseconds and a Z."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{int(moment * 1000) % 1000:03d}Z"
    )


def grantee_permission_id(key: str) -> str:
    """A stable 20-digit Drive permission id for someone outside the directory."""
    digest = hashlib.sha256(key.lower().encode()).digest()
    return str(int.from_bytes(digest[:9], "big") % 10**20).zfill(20)


@dataclass(slots=True)
class User:
    index: int
    email: str
    name: str
    admin: bool
    suspended: bool
    id: str
    permission_id: str
    root_id: str
    created: float

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]

    def to_directory(self, customer_id: str) -> Json:
        """The User resource of Admin Directory (projection=basic)."""
        given, _, family = self.name.partition(" ")
        user: Json = {
            "kind": "admin#directory#user",
            "id": self.id,
            "etag": f'"{self.id[:10]}/{self.permission_id[:12]}"',
            "primaryEmail": self.email,
            "name": {"givenName": given, "familyName": family or given, "fullName": self.name},
            "isAdmin": self.admin,
            "isDelegatedAdmin": False,
            "lastLoginTime": rfc3339(self.created + 3600),
            "creationTime": rfc3339(self.created),
            "agreedToTerms": True,
            "suspended": self.suspended,
            "archived": False,
            "changePasswordAtNextLogin": False,
            "ipWhitelisted": False,
            "emails": [{"address": self.email, "primary": True}],
            "customerId": customer_id,
            "orgUnitPath": "/",
            "isMailboxSetup": True,
            "isEnrolledIn2Sv": False,
            "isEnforcedIn2Sv": False,
            "includeInGlobalAddressList": True,
        }
        if self.suspended:
            user["suspensionReason"] = "ADMIN"
        return user


class Directory:
    """Users by email, in the order Admin Directory lists them (by email)."""

    def __init__(self, domain: str, rng: random.Random) -> None:
        self.domain = domain
        self.rng = rng
        self.customer_id = "C0" + "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=7))
        self.users: list[User] = []
        self.by_email: dict[str, User] = {}
        self._sorted: list[User] | None = None

    def new_drive_id(self) -> str:
        """An id shaped like a shared drive's or a My Drive root's: 0A...Uk9PVA."""
        return "0A" + "".join(self.rng.choices(ID_CHARS[:62], k=11)) + "Uk9PVA"

    def add(self, email: str, name: str | None, admin: bool, suspended: bool,
            created: float) -> User:
        email = email.lower()
        if email in self.by_email:
            raise ValueError(f"{email} is already a user; pick another address")
        if name is None:
            name = email.split("@")[0].replace(".", " ").title()
        user = User(
            index=len(self.users), email=email, name=name, admin=admin,
            suspended=suspended, id=str(self.rng.randrange(10**20, 10**21)),
            permission_id=grantee_permission_id(email), root_id=self.new_drive_id(),
            created=created,
        )
        self.users.append(user)
        self.by_email[email] = user
        self._sorted = None
        return user

    def get(self, email: str | None) -> User | None:
        return self.by_email.get(email.lower()) if email else None

    def require(self, email: str) -> User:
        user = self.get(email)
        if user is None:
            raise KeyError(f"no user {email!r}; add it first with add_user()")
        return user

    def active(self, email: str) -> bool:
        user = self.get(email)
        return user is not None and not user.suspended

    def in_order(self) -> list[User]:
        if self._sorted is None:
            self._sorted = sorted(self.users, key=lambda u: u.email)
        return self._sorted
