"""Run the Slack emulator by itself: ``python -m tests.emulators.slack [--port N]``.

It seeds a small workspace (three people and a #security channel with the bot
in it) and prints what ``python -m bot`` needs to connect, then echoes each Web
API call the bot makes until Ctrl-C.
"""

from __future__ import annotations

import argparse
import time

from .server import SlackEmulator


def seed(emu: SlackEmulator) -> dict[str, str]:
    """A few people and the security channel; returns name -> id."""
    people = {
        "alice": emu.add_user("alice", "alice@example.com", "Europe/London", "Alice Analyst"),
        "bob": emu.add_user("bob", "bob@example.com", "America/New_York", "Bob Builder"),
        "carol": emu.add_user("carol", "carol@example.com", "Asia/Tokyo", "Carol Owner"),
    }
    people["#security"] = emu.add_channel("security", [people["alice"], people["bob"]])
    return people


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any)")
    args = parser.parse_args(argv)
    with SlackEmulator(port=args.port) as emu:
        ids = seed(emu)
        print(f"SLACK_API_URL={emu.api_url}")
        print(f"SLACK_BOT_TOKEN={emu.bot_token}")
        print(f"SLACK_APP_TOKEN={emu.app_token}")
        for name, id_ in ids.items():
            print(f"  {name:10} {id_}")
        print("Waiting for the bot; Ctrl-C stops.", flush=True)
        echo_calls(emu)


def echo_calls(emu: SlackEmulator) -> None:
    seen = 0
    try:
        while True:
            calls = emu.calls()
            for call in calls[seen:]:
                params = call["params"]
                where = params.get("channel") or params.get("user_id") or ""
                print(f"{call['status']} {call['method']} {where} {params.get('text', '')!s:.60}")
            seen = len(calls)
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
