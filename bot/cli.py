"""The `warden` command line. `python -m bot` is `warden run`."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from bot import cli_grants, cli_ids, cli_scan
from bot.logs import configure_logging
from bot.policy import PolicyError, load_policy
from bot.policy_doc import render_markdown
from bot.settings import Settings, SettingsError, load_settings, read_env_file

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warden", description="Warden, the security team's Slack bot."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="connect to Slack and run until stopped")
    commands.add_parser("check-config", help="validate the settings and the policy file")
    commands.add_parser("policy", help="print the active workflows as Markdown")
    cli_scan.add_parser(commands)
    cli_grants.add_parser(commands)
    cli_ids.add_parser(commands)
    audit = commands.add_parser("audit", help="inspect the audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    audit_commands.add_parser(
        "verify", help="check the hash chain; exit 1 at the first tampered row"
    )
    export = audit_commands.add_parser("export", help="print the audit log as JSON lines")
    export.add_argument("--since", type=_iso_time, help="only rows at or after this ISO-8601 time")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    read_env_file()
    command = args.command or "run"
    try:
        settings = load_settings(need_tokens=command == "run")
    except SettingsError as error:
        print(f"warden: {error}", file=sys.stderr)
        return EXIT_USAGE
    if command == "audit":
        return _audit(settings, args)
    try:
        policy = load_policy(settings.policy_path)
    except PolicyError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    if policy.scanners.drive.enabled and settings.google_ready():
        print(f"warden: the policy enables the Drive scanner, but {settings.google_ready()}",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    if command == "check-config":
        print(f"{settings.policy_path}: ok")
        return EXIT_OK
    if command == "policy":
        print(render_markdown(policy))
        return EXIT_OK
    if command == "scan":
        return cli_scan.run_scan(settings, policy, args)
    if command == "grants":
        return cli_grants.run_grants(settings, policy, args)
    if command == "ids":
        return cli_ids.run_ids(settings, policy, args)
    return _run(settings, policy)


def _run(settings: Settings, policy) -> int:
    from bot.process import run  # the Slack stack loads only when it is needed

    configure_logging(settings.log_level, settings.log_format)
    try:
        return run(settings, policy)
    except Exception:
        # One JSON event with the traceback, not a bare multi-line dump.
        logging.getLogger("bot").exception("process.crashed")
        return 1


def _audit(settings: Settings, args: argparse.Namespace) -> int:
    from state import Store, audit

    if not settings.db_path.exists():
        print(f"warden: no database at {settings.db_path}; set WARDEN_DB", file=sys.stderr)
        return EXIT_USAGE
    store = Store(settings.db_path)
    if args.audit_command == "export":
        for row in audit.export(store.db, since=args.since):
            print(json.dumps(row, default=str))
        return EXIT_OK
    result = audit.verify(store.db)
    if result.ok:
        print(f"audit log intact: {result.rows_checked} rows checked")
        return EXIT_OK
    print(f"audit log tampered at row {result.first_bad_id}: {result.reason}")
    return EXIT_FINDINGS


def _iso_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            "expected an ISO-8601 time like 2026-12-01T09:00"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
