"""`warden ids replay FILE [--dry-run]`: what an EVE log opens under this policy.

A team tunes `incidents.suricata.min_severity` and `incidents.dedup_window`
against a real log: the dry run prints the incidents the log would open
with an empty store and changes nothing; without it, the log's alerts are
ingested like the follower would (cards are posted by the running bot).
The follower's own position in the live log is never touched.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections import Counter
from pathlib import Path

from bot.policy import Policy
from bot.settings import Settings
from integrations.suricata import EveTail
from workflows.ids import NotAnAlert, Planned, alert_from_eve, plan
from workflows.incidents import SURICATA_SEVERITY, Alert

EXIT_OK, EXIT_USAGE = 0, 2


def add_parser(commands) -> None:
    ids = commands.add_parser("ids", help="replay a Suricata EVE log against the policy")
    actions = ids.add_subparsers(dest="ids_command", metavar="ACTION", required=True)
    replay = actions.add_parser("replay", help="read an EVE file once; open (or list) incidents")
    replay.add_argument("file", type=Path, metavar="FILE", help="an EVE JSON log")
    replay.add_argument("--dry-run", action="store_true",
                        help="print the incidents it would open and change nothing")


def run_ids(settings: Settings, policy: Policy, args: argparse.Namespace) -> int:
    if not args.file.is_file():
        print(f"warden: no EVE file at {args.file}", file=sys.stderr)
        return EXIT_USAGE
    alerts, counts = read_alerts(args.file)
    section = policy.incidents
    planned = plan(alerts, section.suricata.min_severity, section.dedup_window)
    print(summary(counts, len(alerts), planned, section.suricata.min_severity))
    for item in planned:
        print(describe(item))
    if args.dry_run or not planned:
        return EXIT_OK
    if not section.enabled:
        print("warden: incidents are switched off in the policy; nothing was opened "
              "(use --dry-run to tune)", file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    return _ingest(settings, policy, alerts)


def read_alerts(path: Path) -> tuple[list[Alert], Counter]:
    alerts: list[Alert] = []
    counts: Counter = Counter()
    for batch in EveTail(path).read():
        counts["malformed"] += batch.malformed
        for event in batch.events:
            try:
                alert = alert_from_eve(event)
            except NotAnAlert:
                counts["unusable alert"] += 1
                continue
            counts[str(event.get("event_type"))] += 1
            if alert is not None:
                alerts.append(alert)
    return alerts, counts


def summary(counts: Counter, alert_count: int, planned: list[Planned], min_severity: int) -> str:
    kinds = ", ".join(f"{name} {n}" for name, n in counts.most_common() if n)
    return (f"{sum(counts.values())} lines ({kinds}); {alert_count} alerts; "
            f"{len(planned)} incident(s) at severity {min_severity} or above:")  # fmt: skip


def describe(item: Planned) -> str:
    alert = item.alert
    severity = SURICATA_SEVERITY.get(alert.severity, "low")
    return (f"  {severity:<6} x{item.count:<5} {alert.seen_at:%Y-%m-%d %H:%M} "
            f"{alert.signature_id} {alert.signature} ({alert.src_ip} -> {alert.dest_ip})")


def _ingest(settings: Settings, policy: Policy, alerts: list[Alert]) -> int:
    from bot.incidents_setup import incident_notifier, incidents_workflow
    from state import Store

    with Store(settings.db_path) as store:
        # No Slack here: analysts come from the policy and the people table.
        workflow = incidents_workflow(settings, policy, store, None,
                                      incident_notifier(settings, policy), threading.Event())
        outcome = workflow.ingest(alerts)
    opened, updated = len(outcome["opened"]), len(outcome["updated"])
    print(f"opened {opened} incident(s), updated {updated}; the bot posts their cards")
    return EXIT_OK
