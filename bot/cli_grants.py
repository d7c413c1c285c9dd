"""`warden grants list [--all]` and `warden grants revoke ID`."""

from __future__ import annotations

import argparse
import sys
import threading

from bot.policy import Policy
from bot.settings import Settings

EXIT_OK, EXIT_USAGE = 0, 2
LIVE = ("requested", "approved", "active", "revoking")


def add_parser(commands) -> None:
    grants = commands.add_parser("grants", help="list or revoke temporary access")
    actions = grants.add_subparsers(dest="grants_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="print grants that are waiting or active")
    listing.add_argument("--all", action="store_true", help="include ended, denied and expired")
    revoke = actions.add_parser("revoke", help="end a grant now and remove its access")
    revoke.add_argument("grant_id", type=int, metavar="ID", help="the grant's number")


def run_grants(settings: Settings, policy: Policy, args: argparse.Namespace) -> int:
    from state import Store

    if not settings.db_path.exists():
        print(f"warden: no database at {settings.db_path}; set WARDEN_DB", file=sys.stderr)
        return EXIT_USAGE
    with Store(settings.db_path) as store:
        if args.grants_command == "list":
            print(format_grants(_rows(store, args.all)))
            return EXIT_OK
        return _revoke(settings, policy, store, args.grant_id)


def _rows(store, everything: bool) -> list[dict]:
    where = "" if everything else f"WHERE status IN ({', '.join(repr(s) for s in LIVE)})"
    return list(store.db.query(f"SELECT * FROM grants {where} ORDER BY id"))


def format_grants(rows: list[dict]) -> str:
    if not rows:
        return "no grants"
    header = ("id", "status", "kind", "resource", "grantee", "role", "expires (UTC)")
    table = [header] + [
        (str(r["id"]), r["status"], r["kind"], (r["resource_name"] or r["resource"])[:30],
         r["grantee"], r["role"], (r["expires_at"] or "")[:16].replace("T", " "))
        for r in rows
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in table
    )


def _revoke(settings: Settings, policy: Policy, store, grant_id: int) -> int:
    from bot.grants_setup import grants_workflow
    from workflows.people import People

    people = People(store, _NoDirectory(), policy)
    grants = grants_workflow(settings, policy, store, people, threading.Event())
    if grants is None:
        print("warden: temporary access is switched off in the policy", file=sys.stderr)
        return EXIT_USAGE
    try:
        grant = grants.revoke(grant_id, "cli", "revoked from the command line")
    except LookupError:
        print(f"warden: there is no grant {grant_id}; see `warden grants list`", file=sys.stderr)
        return EXIT_USAGE
    if grant["status"] != "revoked":
        print(f"warden: grant {grant_id} is {grant['status']}, not active", file=sys.stderr)
        return EXIT_USAGE
    print(f"grant {grant_id} revoked: {grant['revoke_outcome']}")
    return EXIT_OK


class _NoDirectory:
    """The CLI does not look people up in Slack; the bot sends the messages."""

    def person(self, slack_user_id: str) -> None:
        return None

    def person_by_email(self, email: str) -> None:
        return None
