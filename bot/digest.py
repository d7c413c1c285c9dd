"""The weekly digest in the security channel, and `/warden stats`.

The digest job runs hourly and posts once per ISO week, on the policy's
`digest_day` from the start of working hours (UTC: the policy has no
company time zone). The outbox's dedup key is the week, so a restart, a
second process or an hourly run after the first posts nothing twice.
"""

from __future__ import annotations

from datetime import datetime

from bot import stats_view
from bot.policy import Policy
from state import Store, audit, outbox
from state.clock import utcnow
from workflows.incident_stats import figures

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def digest_due(policy: Policy, now: datetime) -> bool:
    day = WEEKDAYS.index(policy.incidents.digest_day)
    return now.weekday() == day and now.time() >= policy.working_hours.start


def post_weekly_digest(store: Store, policy: Policy, now: datetime | None = None) -> bool:
    """Queue this week's digest if it is due and not queued yet; True if queued."""
    now = now or utcnow()
    if not digest_due(policy, now):
        return False
    year, week, _ = now.isocalendar()
    with store.transaction() as db:
        shown = figures(db, now)
        payload = {"channel": policy.security_channel, "text": stats_view.stats_text(shown),
                   "blocks": stats_view.digest_blocks(shown)}  # fmt: skip
        queued = outbox.enqueue(db, "chat.postMessage", payload, f"weekly-digest:{year}-W{week}")
        if queued is not None:
            audit.record(db, "warden", "digest.queued", f"week:{year}-W{week}")
    return queued is not None


def stats_answer(store: Store) -> dict:
    shown = figures(store.db)
    return {"text": stats_view.stats_text(shown), "blocks": stats_view.stats_blocks(shown)}
