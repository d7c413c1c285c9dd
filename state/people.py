"""Who is who: a cache of Slack profiles, joined to email and GitHub login.

Rows come from ``users.info`` / ``users.list`` and are refreshed when
`is_stale`. Emails match case-insensitively (the column is NOCASE).
"""

from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database
from sqlite_utils.db import NotFoundError

from state.clock import from_iso, to_iso, utcnow

FIELDS = frozenset(
    {
        "email",
        "display_name",
        "real_name",
        "tz",
        "tz_offset",
        "github_login",
        "is_analyst",
        "refreshed_at",
    }
)


def upsert_person(db: Database, slack_user_id: str, **fields: Any) -> dict[str, Any]:
    """Insert or update one person; only the given fields change.

    `refreshed_at` defaults to now: an upsert is a refresh. Returns the row.
    """
    unknown = sorted(set(fields) - FIELDS)
    if unknown:
        raise ValueError(f"unknown people fields {unknown}; expected some of {sorted(FIELDS)}")
    row = {**fields, "slack_user_id": slack_user_id}
    row["refreshed_at"] = to_iso(fields.get("refreshed_at") or utcnow())
    if "is_analyst" in row:
        row["is_analyst"] = int(bool(row["is_analyst"]))

    people = db.table("people").upsert(row, pk="slack_user_id")
    return _person(people.get(slack_user_id))


def get_person(db: Database, slack_user_id: str) -> dict[str, Any] | None:
    try:
        return _person(db.table("people").get(slack_user_id))
    except NotFoundError:
        return None


def find_by_email(db: Database, email: str) -> dict[str, Any] | None:
    """The person with this email, compared case-insensitively."""
    rows = list(db.table("people").rows_where("email = ?", [email], limit=1))
    return _person(rows[0]) if rows else None


def is_stale(person: dict[str, Any], max_age: timedelta, now: datetime | None = None) -> bool:
    """Whether the row is `max_age` old or older, or was never refreshed."""
    refreshed_at = person.get("refreshed_at")
    if refreshed_at is None:
        return True
    return (now or utcnow()) - from_iso(refreshed_at) >= max_age


def set_github_login(db: Database, email: str, login: str) -> int:
    """Record the GitHub login of whoever has `email`; return how many rows changed."""
    cursor = db.execute(
        "UPDATE people SET github_login = ? WHERE email = ? AND github_login IS NOT ?",
        [login, email, login],
    )
    return cursor.rowcount


def _person(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "is_analyst": bool(row["is_analyst"])}
