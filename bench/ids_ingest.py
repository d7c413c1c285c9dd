"""Suricata EVE ingest: throughput, alert-to-card latency and a burst, against the real process.

Starts the Slack emulator and `python -m bot run` following an EVE log, then:

1. appends 100,000 lines of mixed event types (1% alerts over 200 distinct
   signature and host pairs), built from the recorded lines in
   tests/fixtures/eve, in one write, and times how long the follower takes
   to save the file's end as its position, and until every card is posted;
2. appends single alerts, each a new incident, 200 ms apart, and times each
   from the append to the emulator seeing its card's chat.postMessage;
3. appends 1,000 copies of one alert in one write, and times how long until
   its one card shows the count 1000.

It reads the bot's SQLite file read-only (WAL lets it) and prints the bot's
CPU time and peak RSS, as text and as one JSON line. Target: card latency
p95 <= 2 s.

    .venv/bin/python bench/ids_ingest.py [--lines 100000] [--keys 200] [--singles 50]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.harness import WardenProcess, all_text, policy_text  # noqa: E402
from tests.emulators.slack import SlackEmulator  # noqa: E402
from tests.emulators.slack.workspace import Message  # noqa: E402

RECORDED = Path(__file__).resolve().parents[1] / "tests/fixtures/eve/suricata-recorded.json"
MIN_SEVERITY = 2
OTHER_TYPES = ("flow", "dns", "http", "tls", "fileinfo", "stats")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
POLL_SECONDS = 0.02


class TimedSlack(SlackEmulator):
    """The emulator, noting when each top-level message was posted (on its own loop)."""

    def __init__(self) -> None:
        super().__init__()
        self.posted: list[tuple[float, Message]] = []

    def _message_posted(self, message: Message) -> None:
        if message.thread_ts is None:
            self.posted.append((time.monotonic(), message))
        super()._message_posted(message)

    def cards_since(self, index: int) -> list[tuple[float, Message]]:
        return [(at, m) for at, m in self.posted[index:] if m.text.startswith("Incident ")]

    def text_of(self, message: Message) -> str:
        with self.workspace.lock:
            return all_text(message.to_slack(self.team_id))


class StoreReader:
    """The bot's SQLite file, opened read-only beside the running process."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)

    def offset(self, eve: Path) -> int:
        row = self._db.execute(
            "SELECT value FROM cursors WHERE key = ?", [f"suricata.position:{eve}"]
        ).fetchone()
        return json.loads(row[0])["offset"] if row else 0

    def pending(self) -> int:
        query = "SELECT COUNT(*) FROM outbox WHERE status = 'pending'"
        return self._db.execute(query).fetchone()[0]

    def incidents(self, src_prefix: str) -> tuple[int, int]:
        """How many incidents, and alerts counted on them, for sources starting so."""
        count, alerts = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(alert_count), 0) FROM incidents "
            "WHERE dedup_key LIKE ?", [f"suricata:%:{src_prefix}%"],
        ).fetchone()  # fmt: skip
        return count, alerts

    def close(self) -> None:
        self._db.close()


# -- EVE lines ----------------------------------------------------------------


def recorded() -> tuple[dict[str, list[dict]], dict[int, dict]]:
    """Recorded events by type, and one alert per signature that opens incidents."""
    by_type: dict[str, list[dict]] = {}
    alerts: dict[int, dict] = {}
    for line in RECORDED.read_text().splitlines():
        event = json.loads(line)
        by_type.setdefault(event["event_type"], []).append(event)
        if event["event_type"] == "alert" and event["alert"]["severity"] <= MIN_SEVERITY:
            alerts.setdefault(event["alert"]["signature_id"], event)
    return by_type, alerts


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f+0000")


def alert_line(template: dict, src_ip: str, when: datetime, flow_id: int) -> str:
    event = {**template, "timestamp": stamp(when), "flow_id": flow_id, "src_ip": src_ip}
    return json.dumps(event) + "\n"


def key_source(key: int) -> str:
    return f"10.20.{key // 250}.{key % 250 + 1}"


def mixed_lines(lines: int, alert_every: int, keys: int, rng: random.Random) -> str:
    """Flow, dns, http, tls, fileinfo and stats lines, every `alert_every`-th an alert;
    alert n comes from key n % keys (its signature and source address)."""
    by_type, alerts = recorded()
    others = [event for kind in OTHER_TYPES for event in by_type.get(kind, [])]
    signatures = sorted(alerts)
    start = datetime.now(UTC)
    out, alert_number = [], 0
    for n in range(lines):
        when = start + timedelta(microseconds=10 * n)
        flow_id = rng.randrange(1, 2**51)
        if n % alert_every == alert_every - 1:
            key = alert_number % keys
            template = alerts[signatures[key % len(signatures)]]
            out.append(alert_line(template, key_source(key), when, flow_id))
            alert_number += 1
        else:
            event = {**others[n % len(others)], "timestamp": stamp(when), "flow_id": flow_id}
            out.append(json.dumps(event) + "\n")
    return "".join(out)


def append(path: Path, text: str) -> float:
    """Write `text` to the end of the log in one go; returns when the write began."""
    began = time.monotonic()
    with open(path, "a") as log:
        log.write(text)
    return began


# -- waiting ------------------------------------------------------------------


def wait_until(check: Callable[[], object], limit: float, what: str) -> float:
    """Poll `check` until truthy; returns monotonic time it was; raises after `limit` s."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if check():
            return time.monotonic()
        time.sleep(POLL_SECONDS)
    raise SystemExit(f"timed out after {limit:g} s waiting for {what}")


def wait_quiet(store: StoreReader, limit: float) -> float:
    """Until the outbox has stayed empty for half a second (enrichment updates included);
    returns when it became empty."""
    deadline = time.monotonic() + limit
    quiet_since = None
    while time.monotonic() < deadline:
        if store.pending():
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= 0.5:
            return quiet_since
        time.sleep(0.1)
    raise SystemExit(f"the outbox was still sending after {limit:g} s")


# -- the bot's own cost -------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


# -- the three measures -------------------------------------------------------


def measure_ingest(slack: TimedSlack, store: StoreReader, eve: Path, pid: int,
                   args: argparse.Namespace) -> dict:  # fmt: skip
    alerts = args.lines // 100
    text = mixed_lines(args.lines, 100, args.keys, random.Random(7))
    size = eve.stat().st_size + len(text.encode())
    cards_before, cpu_before = len(slack.posted), cpu_seconds(pid)
    calls_before = len(slack.calls())

    began = append(eve, text)
    read = wait_until(lambda: store.offset(eve) >= size, args.timeout, "the follower at the end")
    wait_until(lambda: len(slack.cards_since(cards_before)) >= min(args.keys, alerts),
               args.timeout, "every card")  # fmt: skip
    last_card = max(at for at, _ in slack.cards_since(cards_before))
    sent = wait_quiet(store, args.timeout)  # the threads and card updates behind the cards
    incidents, counted = store.incidents("10.20.")
    return {
        "lines": args.lines, "alerts": alerts, "mb": round(len(text) / 1e6, 1),
        "read_s": round(read - began, 2), "lines_per_s": round(args.lines / (read - began)),
        "all_cards_s": round(last_card - began, 2), "outbox_empty_s": round(sent - began, 2),
        "slack_calls": len(slack.calls()) - calls_before, "incidents": incidents,
        "alerts_counted": counted, "bot_cpu_s": round(cpu_seconds(pid) - cpu_before, 2),
    }  # fmt: skip


def measure_latency(slack: TimedSlack, store: StoreReader, pid: int,
                    eve: Path, args: argparse.Namespace) -> dict:  # fmt: skip
    _, alerts = recorded()
    template = alerts[min(alerts)]
    cards_before, cpu_before = len(slack.posted), cpu_seconds(pid)
    appended: dict[str, float] = {}
    for n in range(args.singles):
        source = f"10.30.{n // 250}.{n % 250 + 1}"
        appended[source] = append(eve, alert_line(template, source, datetime.now(UTC), n + 1))
        time.sleep(args.spacing)
    wait_until(lambda: len(slack.cards_since(cards_before)) >= args.singles,
               args.timeout, "a card for every single alert")  # fmt: skip
    latencies = []
    for at, message in slack.cards_since(cards_before):
        text = slack.text_of(message)
        source = next((s for s in appended if f"`{s}`" in text), None)
        if source is not None:  # the card of this phase's alert from that address
            latencies.append((at - appended.pop(source)) * 1000)
    wait_quiet(store, args.timeout)
    return {
        "alerts": args.singles, "spacing_ms": round(args.spacing * 1000),
        "p50_ms": round(percentile(latencies, 50)), "p95_ms": round(percentile(latencies, 95)),
        "max_ms": round(max(latencies)), "min_ms": round(min(latencies)),
        "bot_cpu_s": round(cpu_seconds(pid) - cpu_before, 2),
    }  # fmt: skip


def measure_burst(slack: TimedSlack, store: StoreReader, pid: int,
                  eve: Path, args: argparse.Namespace) -> dict:  # fmt: skip
    _, alerts = recorded()
    template, source = alerts[max(alerts)], "10.40.0.1"
    cards_before, cpu_before = len(slack.posted), cpu_seconds(pid)
    now = datetime.now(UTC)
    lines = "".join(alert_line(template, source, now + timedelta(microseconds=n), 9_000_000 + n)
                    for n in range(args.burst))  # fmt: skip
    shows = f"*Alerts*\n{args.burst} "

    began = append(eve, lines)
    wait_until(lambda: slack.cards_since(cards_before), args.timeout, "the burst's card")
    posted = slack.cards_since(cards_before)[0][0]
    card = slack.cards_since(cards_before)[0][1]
    counted = wait_until(lambda: shows in slack.text_of(card), args.timeout,
                         f"the card to show {args.burst} alerts")  # fmt: skip
    wait_quiet(store, args.timeout)
    incidents, alerts_counted = store.incidents(source)
    return {
        "alerts": args.burst, "card_posted_s": round(posted - began, 2),
        "card_shows_count_s": round(counted - began, 2), "incidents": incidents,
        "alerts_counted": alerts_counted, "cards": len(slack.cards_since(cards_before)),
        "bot_cpu_s": round(cpu_seconds(pid) - cpu_before, 2),
    }  # fmt: skip


# -- running it ---------------------------------------------------------------


def start_bot(slack: TimedSlack, workdir: Path, eve: Path) -> WardenProcess:
    analyst = slack.add_user("sam", "sam@example.com")
    slack.add_channel("security", members=[analyst])
    policy = policy_text("#security", "sam@example.com") + (
        f"incidents:\n  enabled: true\n  suricata:\n    eve_path: {eve}\n"
        f"    min_severity: {MIN_SEVERITY}\n"
    )
    (workdir / "warden.yaml").write_text(policy)
    process = WardenProcess(slack, workdir).start()
    wait_until(lambda: "ids.following" in process.logs(), 15, "the follower to start")
    return process


def report(ingest: dict, latency: dict, burst: dict, bot: dict) -> None:
    print(
        f"ingest: {ingest['lines']} lines ({ingest['mb']} MB, {ingest['alerts']} alerts) "
        f"read in {ingest['read_s']} s = {ingest['lines_per_s']} lines/s; "
        f"all {ingest['incidents']} cards posted {ingest['all_cards_s']} s after the append "
        f"({ingest['alerts_counted']} alerts counted); outbox empty after "
        f"{ingest['outbox_empty_s']} s ({ingest['slack_calls']} Slack calls); "
        f"bot CPU {ingest['bot_cpu_s']} s"
    )
    print(
        f"alert -> card over {latency['alerts']} alerts {latency['spacing_ms']} ms apart: "
        f"p50 {latency['p50_ms']} ms  p95 {latency['p95_ms']} ms  max {latency['max_ms']} ms "
        f"(target p95 <= 2000 ms)"
    )
    print(
        f"burst of {burst['alerts']}: card posted {burst['card_posted_s']} s, shows the count "
        f"{burst['card_shows_count_s']} s after the append; {burst['incidents']} incident(s), "
        f"{burst['cards']} card(s), {burst['alerts_counted']} alerts counted"
    )
    print(f"bot: CPU {bot['cpu_s']} s in all, peak RSS {bot['peak_rss_mb']} MB")
    print(json.dumps({"ingest": ingest, "latency": latency, "burst": burst, "bot": bot}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000, help="mixed lines, 1%% alerts")
    parser.add_argument("--keys", type=int, default=200, help="distinct signature/host pairs")
    parser.add_argument("--singles", type=int, default=50, help="alerts timed one by one")
    parser.add_argument("--spacing", type=float, default=0.2, help="seconds between singles")
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=180, help="limit per wait, seconds")
    args = parser.parse_args()

    with TimedSlack() as slack, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        eve = workdir / "eve.json"
        eve.write_text("")
        process = start_bot(slack, workdir, eve)
        store = StoreReader(workdir / "warden.db")
        try:
            pid = process.proc.pid
            ingest = measure_ingest(slack, store, eve, pid, args)
            latency = measure_latency(slack, store, pid, eve, args)
            burst = measure_burst(slack, store, pid, eve, args)
            bot = {"cpu_s": round(cpu_seconds(pid), 2), "peak_rss_mb": round(peak_rss_mb(pid), 1)}
        finally:
            store.close()
            process.stop()
    report(ingest, latency, burst, bot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
