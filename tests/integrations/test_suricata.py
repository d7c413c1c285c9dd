"""Following an EVE log across restarts, rotation and truncation.

The lines are EVE-shaped (event_type, timestamp, src/dest, alert) but written
here by hand: the tailer reads lines, not their meaning. The incident tests
will use output recorded from Suricata itself."""

import json
import os

from integrations.suricata import EveTail


def eve(n: int) -> str:
    return json.dumps({
        "timestamp": f"2026-12-03T10:00:{n % 60:02d}.000000+0000", "event_type": "alert",
        "src_ip": "203.0.113.9", "dest_ip": "10.0.0.5", "flow_id": n,
        "alert": {"signature_id": 2010935, "signature": "ET SCAN Nmap", "severity": 2},
    })  # fmt: skip


def write(path, *lines: str, mode: str = "a") -> None:
    with open(path, mode) as handle:
        handle.writelines(line + "\n" for line in lines)


def read_all(tail: EveTail) -> tuple[list[int], int]:
    flows, bad = [], 0
    for batch in tail.read():
        flows += [event["flow_id"] for event in batch.events]
        bad += batch.malformed
    return flows, bad


def test_a_restart_continues_where_the_last_run_stopped(tmp_path):
    """The saved position means no line is read twice and none is skipped."""
    log = tmp_path / "eve.json"
    write(log, eve(1), eve(2))
    first = EveTail(log)
    assert read_all(first) == ([1, 2], 0)

    write(log, eve(3))
    again = EveTail(log, first.position)

    assert read_all(again) == ([3], 0)


def test_rotation_reads_the_rest_of_the_old_file_then_the_new_one(tmp_path):
    """eve.json renamed to eve.json.1 with unread lines, a fresh eve.json beside it."""
    log = tmp_path / "eve.json"
    write(log, eve(1))
    tail = EveTail(log)
    read_all(tail)
    write(log, eve(2))
    os.rename(log, tmp_path / "eve.json.1")
    write(log, eve(3), mode="w")

    assert read_all(EveTail(log, tail.position)) == ([2, 3], 0)


def test_a_truncated_file_is_read_from_its_start(tmp_path):
    """copytruncate rotation: same inode, smaller file."""
    log = tmp_path / "eve.json"
    write(log, eve(1), eve(2), eve(3))
    tail = EveTail(log)
    read_all(tail)
    write(log, eve(4), mode="w")

    assert read_all(EveTail(log, tail.position)) == ([4], 0)


def test_malformed_lines_are_counted_and_a_half_written_line_waits(tmp_path):
    """Garbage is counted, not fatal; a line without its newline yet is left for later."""
    log = tmp_path / "eve.json"
    write(log, eve(1), "{not json", "[1, 2]")
    with open(log, "a") as handle:
        handle.write(eve(2)[:40])
    tail = EveTail(log)

    assert read_all(tail) == ([1], 2)

    with open(log, "a") as handle:
        handle.write(eve(2)[40:] + "\n")
    assert read_all(EveTail(log, tail.position)) == ([2], 0)


def test_a_file_truncated_and_refilled_while_down_is_read_from_its_start(tmp_path):
    """copytruncate, then more than the old offset written before the follower is back:
    same inode, bigger file, but a different beginning."""
    log = tmp_path / "eve.json"
    log.write_text('{"event_type": "alert", "n": 1}\n')
    first = EveTail(log)
    [batch] = list(first.read())

    with open(log, "r+") as handle:  # truncate in place, keep the inode
        handle.truncate(0)
    log.write_text("".join(f'{{"event_type": "dns", "n": {n}}}\n' for n in range(10, 15)))

    after = EveTail(log, batch.position)
    events = [event for b in after.read() for event in b.events]
    assert [event["n"] for event in events] == [10, 11, 12, 13, 14]


def test_lines_written_to_the_rotated_file_after_the_switch_are_read_once(tmp_path):
    """logrotate's `create` makes the new file before Suricata's HUP: Suricata goes
    on writing to the renamed file for a moment, after we have moved to the new one."""
    log = tmp_path / "eve.json"
    log.write_text('{"n": 1}\n')
    tail = EveTail(log)
    seen = [e["n"] for b in tail.read() for e in b.events]

    os.rename(log, tmp_path / "eve.json.1")
    log.write_text("")  # created empty, as `create` does
    seen += [e["n"] for b in tail.read() for e in b.events]
    with open(tmp_path / "eve.json.1", "a") as old:
        old.write('{"n": 2}\n')  # Suricata, not yet reopened
    seen += [e["n"] for b in tail.read() for e in b.events]
    log.write_text('{"n": 3}\n')  # reopened after the HUP
    seen += [e["n"] for b in tail.read() for e in b.events]
    with open(tmp_path / "eve.json.1", "a") as old:
        old.write('{"n": 4}\n')  # a last buffered line flushed late
    seen += [e["n"] for b in tail.read() for e in b.events]
    seen += [e["n"] for b in tail.read() for e in b.events]

    assert seen == [1, 2, 3, 4]
    assert tail.position.inode == os.stat(log).st_ino  # saved positions stay on the live file
