"""Drive scan cost at company scale, against the Google and Slack emulators.

Loads N files over U users and one shared drive (1% shared publicly), runs
`warden scan drive` as its own process (so its CPU time and peak memory are
the bot's alone), then makes sharing changes and runs an incremental scan.
Prints requests by method, wall time, CPU, peak RSS and DMs per owner.

    .venv/bin/python bench/drive_scan.py [--files 100000] [--users 50] [--changes 500]

Targets: full scan requests <= 1.05 x ceil(files/1000) + a few per user;
incremental requests <= what the changes feed needs + one per user, and no
owner told twice; <= 5 s bot CPU per 100k files; peak RSS <= 200 MB at 1M files.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from integrations.google import DIRECTORY_SCOPE, DRIVE_SCOPE  # noqa: E402
from tests.e2e.harness import policy_text  # noqa: E402
from tests.emulators.google import GoogleEmulator  # noqa: E402
from tests.emulators.slack import SlackEmulator  # noqa: E402

ADMIN = "admin@example.com"


def load(google: GoogleEmulator, slack: SlackEmulator, files: int, users: int) -> list[str]:
    google.add_user(ADMIN, admin=True)
    owners = [f"user{n:03}@example.com" for n in range(users)]
    per_user = files * 49 // 50 // users
    for owner in owners:
        google.add_user(owner)
        slack.add_user(owner.split("@")[0], owner)
        google.bulk_add_files(owner, per_user, share_every=100)
    drive_id = google.add_shared_drive("Company", {owners[0]: "organizer"})
    google.bulk_add_files(owners[0], files - per_user * users, share_every=100, drive_id=drive_id)
    return owners


def run_scan(workdir: Path, env: dict, *args: str) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "bot", "scan", "drive", *args],
        cwd=workdir, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode not in (0, 1):
        raise SystemExit(f"scan failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2),
        "peak_rss_mb": round(after.ru_maxrss / 1024, 1),
        "summary": result.stdout.strip().splitlines()[-1],
    }


def dms_per_owner(slack: SlackEmulator, owners: list[str], ids: dict[str, str]) -> Counter:
    return Counter({owner: len(slack.dms_to(ids[owner])) for owner in owners})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--changes", type=int, default=500)
    args = parser.parse_args()

    with GoogleEmulator() as google, SlackEmulator() as slack, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        owners = load(google, slack, args.files, args.users)
        ids = {o: slack.workspace.user_by_email(o).id for o in owners}
        slack.add_channel("security")
        info = google.service_account_info()
        google.grant_delegation(info["client_id"], [DRIVE_SCOPE, DIRECTORY_SCOPE])
        (workdir / "key.json").write_text(json.dumps(info))
        (workdir / "warden.yaml").write_text(
            policy_text("#security", owners[0]) + "scanners:\n  drive:\n    enabled: true\n"
        )
        env = {
            **os.environ, "PYTHONPATH": str(ROOT), "WARDEN_DB": str(workdir / "w.db"),
            "WARDEN_POLICY": str(workdir / "warden.yaml"),
            "GOOGLE_SERVICE_ACCOUNT_FILE": str(workdir / "key.json"),
            "GOOGLE_ADMIN_EMAIL": ADMIN, "GOOGLE_API_ENDPOINT": google.url,
            "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_API_URL": slack.api_url,
        }  # fmt: skip

        google.reset_counts()
        full = run_scan(workdir, env)
        full["requests"] = dict(sorted(google.request_counts().items()))
        dms_after_full = dms_per_owner(slack, owners, ids)

        rng = random.Random(7)
        for _ in range(args.changes):
            owner = rng.choice(owners)
            google.share(google.add_file(owner, "Changed"), "anyone", "reader")
        google.reset_counts()
        incremental = run_scan(workdir, env, "--incremental")
        incremental["requests"] = dict(sorted(google.request_counts().items()))
        dms_after_incremental = dms_per_owner(slack, owners, ids)

    pages = math.ceil(args.files / 1000)
    print(f"{args.files} files, {args.users} users, 1 shared drive; {args.changes} changes")
    print(f"full scan:        {json.dumps(full)}")
    print(f"  files.list budget 1.05 x {pages} pages + per-user constant")
    print(f"incremental scan: {json.dumps(incremental)}")
    print(f"DMs per owner after the full scan: {sorted(set(dms_after_full.values()))}")
    new_dms = dms_after_incremental - dms_after_full
    print(f"DMs per owner from the incremental scan: max {max(new_dms.values(), default=0)}, "
          f"owners told {len(new_dms)}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
