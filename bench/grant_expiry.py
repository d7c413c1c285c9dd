"""Grant expiry at scale: 10,000 Drive grants ending in the same minute, then
1,000 overdue grants found at start, revoked through the Google emulator.

Uses the bot's own pieces: the grants workflow with the Drive applier, and the
scheduler's one-off wake-up per grant (APScheduler's pool) that the process
arms on start and on every approval. Prints revoke throughput and the
latency from each grant's expiry to its revocation.

    .venv/bin/python bench/grant_expiry.py [--grants 10000] [--overdue 1000]

Target: every grant revoked within 60 s of its expiry, in both phases.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.policy import parse_policy  # noqa: E402
from bot.scheduler import Scheduler  # noqa: E402
from integrations.google import DIRECTORY_SCOPE, DRIVE_SCOPE, GoogleWorkspace  # noqa: E402
from state import Store  # noqa: E402
from state.clock import from_iso, to_iso, utcnow  # noqa: E402
from tests.emulators.google import GoogleEmulator  # noqa: E402
from workflows.grant_appliers import DriveApplier  # noqa: E402
from workflows.grants import GrantsWorkflow  # noqa: E402

OWNER = "alice@example.com"
POLICY = parse_policy(
    'company: {name: Example, domains: [example.com]}\nsecurity_channel: "#security"\n'
    "analysts: [U0SAM]\ngrants: {enabled: true}\n"
).grants


class Quiet:
    def __getattr__(self, name):
        return lambda *args: None


def make_grants(store: Store, google: GoogleEmulator, count: int, expires, tag: str) -> list[int]:
    """Active grants whose permissions really exist in the emulator (set up without HTTP)."""
    ids = []
    with store.transaction() as db:
        for n in range(count):
            file_id = google.add_file(OWNER, f"{tag} {n}")
            grantee = f"auditor{n}@partner.com"
            permission = google.share(file_id, "user", "reader", email=grantee)
            cursor = db.execute(
                """INSERT INTO grants (kind, resource, resource_name, owner, grantee, role,
                       duration_seconds, reason, requester, approver, status, created_at,
                       request_expires_at, applied_at, created_ref, expires_at)
                   VALUES ('drive', ?, ?, ?, ?, 'reader', 60, 'bench', 'U_BOB', 'U_ALICE',
                           'active', ?, ?, ?, ?, ?)""",
                [file_id, f"{tag} {n}", json.dumps([OWNER]), grantee, to_iso(utcnow()),
                 to_iso(utcnow()), to_iso(utcnow()),
                 json.dumps({"permission_id": permission, "act_as": OWNER}), to_iso(expires)],
            )  # fmt: skip
            ids.append(cursor.lastrowid)
    return ids


def arm(scheduler: Scheduler, grants: GrantsWorkflow) -> None:
    """What the process does on start: one wake-up per active grant at its expiry."""
    for grant_id, when in grants.active_expiries():
        scheduler.run_once(
            f"grant-expiry-{grant_id}", when,
            lambda gid=grant_id: grants.revoke(gid, "warden", "expired"),
        )  # fmt: skip


def wait_revoked(store: Store, ids: list[int], limit: float) -> float:
    started = time.monotonic()
    marks = ",".join(map(str, ids))
    while time.monotonic() - started < limit:
        left = store.db.execute(
            f"SELECT COUNT(*) FROM grants WHERE id IN ({marks}) AND status != 'revoked'"
        ).fetchone()[0]
        if left == 0:
            break
        time.sleep(0.2)
    return time.monotonic() - started


def latencies(store: Store, ids: list[int]) -> list[float]:
    marks = ",".join(map(str, ids))
    rows = store.db.execute(
        f"""SELECT expires_at, revoked_at FROM grants
            WHERE id IN ({marks}) AND revoked_at IS NOT NULL"""
    ).fetchall()
    return sorted((from_iso(r) - from_iso(e)).total_seconds() for e, r in rows)


def report(name: str, ids: list[int], values: list[float], wall: float) -> None:
    def pct(p: float) -> float:
        return values[min(len(values) - 1, int(p / 100 * len(values)))] if values else float("nan")

    print(f"{name}: {len(values)}/{len(ids)} revoked in {wall:.1f} s "
          f"({len(values) / wall:.0f} revokes/s)")  # fmt: skip
    print(f"  latency after expiry: p50 {pct(50):.1f} s  p95 {pct(95):.1f} s  "
          f"p99 {pct(99):.1f} s  max {max(values, default=float('nan')):.1f} s (target <= 60 s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grants", type=int, default=10_000)
    parser.add_argument("--overdue", type=int, default=1_000)
    args = parser.parse_args()

    with GoogleEmulator() as google, tempfile.TemporaryDirectory() as tmp:
        google.add_user("admin@example.com", admin=True)
        google.add_user(OWNER)
        info = google.service_account_info()
        google.grant_delegation(info["client_id"], [DRIVE_SCOPE, DIRECTORY_SCOPE])
        workspace = GoogleWorkspace(info, "admin@example.com", google.url)
        store = Store(Path(tmp) / "w.db")
        grants = GrantsWorkflow(store, POLICY, ["example.com"],
                                {"drive": DriveApplier(workspace)}, Quiet(), Quiet())  # fmt: skip

        expiry = utcnow() + timedelta(seconds=15)
        same_minute = make_grants(store, google, args.grants, expiry, "Same minute")
        scheduler = Scheduler(store, [])
        scheduler.start()
        arm(scheduler, grants)
        time.sleep(max((expiry - utcnow()).total_seconds(), 0))
        wall = wait_revoked(store, same_minute, 120)
        report("same minute", same_minute, latencies(store, same_minute), wall)
        scheduler.shutdown()

        overdue = make_grants(store, google, args.overdue, utcnow() - timedelta(minutes=5), "Old")
        started = utcnow()
        scheduler = Scheduler(store, [])
        scheduler.start()
        arm(scheduler, grants)  # as on start
        wall = wait_revoked(store, overdue, 120)
        after_start = sorted(
            (from_iso(r) - started).total_seconds()
            for (r,) in store.db.execute(
                f"SELECT revoked_at FROM grants WHERE id IN ({','.join(map(str, overdue))})"
            ).fetchall() if r
        )  # fmt: skip
        report("overdue at start (latency counted from start)", overdue, after_start, wall)
        scheduler.shutdown()
        print(f"Drive requests: {dict(sorted(google.request_counts().items()))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
