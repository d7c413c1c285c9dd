"""Run the Google emulator by itself: ``python -m tests.emulators.google [--port N]``.

It seeds example.com (an admin, three people, files shared publicly and with
outside domains, one shared drive), writes a service-account key file that
the emulator trusts, prints what Warden needs to connect, and then echoes the
request counts as they change until Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

from .server import GoogleEmulator

SCOPES = (
    "https://www.googleapis.com/auth/drive",
    "https://www.googleapis.com/auth/admin.directory.user.readonly",
)


def seed(emu: GoogleEmulator) -> dict[str, str]:
    """A small domain worth scanning; returns a few names and ids to print."""
    emu.add_user("admin@example.com", "Ada Admin", admin=True)
    emu.add_user("alice@example.com", "Alice Analyst")
    emu.add_user("bob@example.com", "Bob Builder")
    emu.add_user("carol@example.com", "Carol Owner")
    budget = emu.add_file("alice@example.com", "Budget 2025",
                          "application/vnd.google-apps.spreadsheet")
    emu.share(budget, "anyone", "reader")
    roadmap = emu.add_file("bob@example.com", "Roadmap")
    emu.share(roadmap, "user", "writer", email="contractor@partner.com")
    folder = emu.add_folder("carol@example.com", "Customer exports")
    export = emu.add_file("carol@example.com", "customers.csv", "text/csv", parents=[folder])
    emu.share(export, "domain", "reader", domain="partner.com")
    emu.add_file("carol@example.com", "Team notes")
    drive = emu.add_shared_drive("Security", {
        "admin@example.com": "organizer", "alice@example.com": "writer",
    })
    runbook = emu.add_drive_file(drive, "Incident runbook", "alice@example.com")
    emu.share(runbook, "anyone", "reader")
    return {"public budget": budget, "roadmap": roadmap, "export": export,
            "shared drive": drive, "runbook": runbook}


def write_key(emu: GoogleEmulator) -> str:
    info = emu.service_account_info()
    emu.grant_delegation(info["client_id"], SCOPES)
    handle, path = tempfile.mkstemp(prefix="warden-google-sa-", suffix=".json")
    with os.fdopen(handle, "w") as key_file:
        json.dump(info, key_file, indent=2)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any)")
    args = parser.parse_args(argv)
    with GoogleEmulator(port=args.port) as emu:
        ids = seed(emu)
        print(f"GOOGLE_API_ENDPOINT={emu.url}")
        print(f"GOOGLE_SERVICE_ACCOUNT_FILE={write_key(emu)}")
        print("GOOGLE_ADMIN_EMAIL=admin@example.com")
        for name, id_ in ids.items():
            print(f"  {name:14} {id_}")
        print("Waiting for calls; Ctrl-C stops.", flush=True)
        echo_counts(emu)


def echo_counts(emu: GoogleEmulator) -> None:
    seen: dict[str, int] = {}
    try:
        while True:
            counts = emu.request_counts()
            if counts != seen:
                print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())), flush=True)
                seen = counts
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
