"""`warden scan drive [--dry-run] [--incremental]`."""

from __future__ import annotations

import argparse
import json
import sys

from bot.policy import Policy
from bot.settings import Settings
from integrations.google import GoogleWorkspace
from scanners.drive import DriveScan, Page, ScopeFailed
from scanners.drive_rules import Finding, most_severe_first

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
COLUMNS = ("severity", "rule", "owner", "file", "shared with", "role")


def add_parser(commands) -> None:
    scan = commands.add_parser("scan", help="run a scanner once")
    scanners = scan.add_subparsers(dest="scanner", metavar="SCANNER", required=True)
    drive = scanners.add_parser("drive", help="scan Google Drive sharing against the policy")
    drive.add_argument(
        "--dry-run", action="store_true", help="print the findings; record and notify nothing"
    )
    drive.add_argument(
        "--incremental", action="store_true", help="read only the changes since the last scan"
    )


def run_scan(settings: Settings, policy: Policy, args: argparse.Namespace) -> int:
    problem = settings.google_ready()
    if problem:
        print(f"warden: {problem}", file=sys.stderr)
        return EXIT_USAGE
    key = json.loads(settings.google_service_account_file.read_text())
    workspace = GoogleWorkspace(key, settings.google_admin_email, settings.google_api_endpoint)
    scan = DriveScan(workspace, policy.scanners.drive, policy.company.domains)
    if args.dry_run:
        return _dry_run(scan)
    return _record(settings, policy, scan, workspace, args.incremental)


def _dry_run(scan: DriveScan) -> int:
    found: list[Finding] = []
    for event in scan.full():
        if isinstance(event, Page):
            found += event.findings
        elif isinstance(event, ScopeFailed):
            print(f"warden: could not read {event.scope}: {event.error}", file=sys.stderr)
    print(format_table(most_severe_first(found)))
    return EXIT_FINDINGS if found else EXIT_OK


def _record(
    settings: Settings, policy: Policy, scan: DriveScan, workspace, incremental: bool
) -> int:
    from state import Store
    from workflows.drive_scan import DriveScanRun, ScanBusy

    with Store(settings.db_path) as store:
        run = DriveScanRun(store, scan, workspace.requests)
        try:
            outcome = run.incremental() if incremental else run.full()
        except ScanBusy as busy:
            print(f"warden: {busy}; wait for it, or use --dry-run", file=sys.stderr)
            return EXIT_USAGE
        _notify(settings, policy, store, workspace, outcome)
    print(
        f"scan run {outcome.run_id} ({outcome.kind}): {outcome.files_seen} files, "
        f"{len(outcome.new_ids)} new, {outcome.ongoing} ongoing, "
        f"{len(outcome.resolved_ids)} resolved, {len(outcome.failed_scopes)} scopes failed"
    )
    return EXIT_FINDINGS if outcome.new_ids or outcome.ongoing else EXIT_OK


def _notify(settings: Settings, policy: Policy, store, workspace, outcome) -> None:
    """Queue the owners' DMs and, with a Slack token at hand, send them now.

    Without SLACK_BOT_TOKEN the messages wait in the outbox for the running bot.
    """
    from bot.app import outbox_client
    from bot.drive import findings_workflow
    from bot.findings_notifier import SlackFindingsNotifier
    from bot.sender import OutboxSender
    from integrations.slack_directory import SlackDirectory
    from workflows.people import People

    if not settings.slack_bot_token:
        print("warden: SLACK_BOT_TOKEN is not set; the running bot will tell the owners",
              file=sys.stderr)  # fmt: skip
        return
    client = outbox_client(settings)
    people = People(store, SlackDirectory(client), policy)
    findings_workflow(store, people, policy, workspace).after_scan(
        outcome.run_id, outcome.new_ids, outcome.resolved_ids
    )
    hooks = SlackFindingsNotifier(policy).hooks()
    while OutboxSender(store, client, on_sent=hooks).drain():
        pass


def format_table(found: list[Finding]) -> str:
    if not found:
        return "no findings"
    rows = [COLUMNS] + [
        (f.severity, f.rule, f.owner, f.file_name, f.shared_with, f.role) for f in found
    ]
    widths = [min(max(len(row[i]) for row in rows), 40) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell[:40].ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]  # fmt: skip
    return "\n".join(lines + [f"{len(found)} findings"])
