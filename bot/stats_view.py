"""Block Kit for the figures: the `/warden stats` answer and the weekly digest.

Both show the same blocks (open incidents by age, then one section per
window); the digest adds a header and a sentence about the week. Durations
read like people say them ("2 h 15 min"); a figure that does not exist yet,
such as MTTD in a week when nobody took an incident, shows as "—".
"""

from __future__ import annotations

from datetime import timedelta

from bot.views import section
from workflows.incident_stats import AGE_BUCKETS, OVER_A_WEEK, Figures

NOTHING = "—"
# Three blocks per window and six others keep a message far below Slack's
# 50 blocks even if someone asks for many windows.
MAX_WINDOWS_SHOWN = 10

_CATEGORY_WORDS = {
    "true_positive": "true positive",
    "false_positive": "false positive",
    "benign": "benign",
    "uncategorised": "no category",
}


def human_duration(duration: timedelta | None) -> str:
    """The two largest units, cut rather than rounded: "3 d 4 h", "2 h 15 min", "45 s"."""
    if duration is None:
        return NOTHING
    seconds = max(0, int(duration.total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return _two_units(days, "d", hours, "h")
    if hours:
        return _two_units(hours, "h", minutes, "min")
    if minutes:
        return f"{minutes} min"
    return f"{seconds} s"


def _two_units(big: int, big_unit: str, small: int, small_unit: str) -> str:
    return f"{big} {big_unit} {small} {small_unit}" if small else f"{big} {big_unit}"


def window_name(days: int) -> str:
    return "Last 24 hours" if days == 1 else f"Last {days} days"


def stats_blocks(f: Figures) -> list[dict]:
    """The ephemeral answer to `/warden stats`."""
    return [_header("Security figures"), *_figure_blocks(f)]


def digest_blocks(f: Figures) -> list[dict]:
    """The weekly post in the security channel: a friendly summary, then the figures."""
    return [_header("Security this week"), section(_week_in_a_sentence(f)), *_figure_blocks(f)]


def stats_text(f: Figures) -> str:
    """The plain fallback, for notifications and clients that show no blocks."""
    parts = [f"Open incidents: {sum(f.open_by_age.values())}"]
    for days in _shown_windows(f):
        parts.append(
            f"{window_name(days)}: {f.opened[days]} opened, {f.resolved[days]} resolved,"
            f" MTTD {human_duration(f.mttd[days])}, MTTR {human_duration(f.mttr[days])}"
        )
    parts.append(f"Active access grants: {f.active_grants}")
    return ". ".join(parts) + "."


def _header(text: str) -> dict:
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def _figure_blocks(f: Figures) -> list[dict]:
    blocks = [_open_incidents(f)]
    for days in _shown_windows(f):
        blocks += [{"type": "divider"}, _window_section(f, days), _categories(f, days)]
    blocks += [
        {"type": "divider"},
        section(f"*Temporary access live right now:* {_count(f.active_grants, 'grant')}"),
        _as_of(f),
    ]
    return blocks


def _shown_windows(f: Figures) -> list[int]:
    return f.windows[:MAX_WINDOWS_SHOWN]


def _open_incidents(f: Figures) -> dict:
    total = sum(f.open_by_age.values())
    block = section(f"*Open incidents:* {total}")
    if total:
        block["fields"] = [_field(bucket.capitalize(), f.open_by_age[bucket])
                           for bucket in AGE_BUCKETS]  # fmt: skip
    return block


def _window_section(f: Figures, days: int) -> dict:
    block = section(f"*{window_name(days)}*")
    block["fields"] = [
        _field("Incidents opened", f.opened[days]),
        _field("Incidents resolved", f.resolved[days]),
        _field("Mean time to acknowledge", _mean_and_median(f.mttd[days], f.mttd_median[days])),
        _field("Mean time to resolve", _mean_and_median(f.mttr[days], f.mttr_median[days])),
        _field("Findings opened", f.findings_opened[days]),
        _field("Findings closed", f.findings_closed[days]),
    ]
    return block


def _mean_and_median(mean: timedelta | None, median: timedelta | None) -> str:
    if mean is None:
        return NOTHING
    return f"{human_duration(mean)}\n_median {human_duration(median)}_"


def _categories(f: Figures, days: int) -> dict:
    if not f.resolved[days]:
        return _context("Nothing resolved.")
    counts = [f"{_CATEGORY_WORDS.get(category, category)}: {count}"
              for category, count in f.by_category[days].items()]  # fmt: skip
    return _context("Resolved as " + " · ".join(counts))


def _as_of(f: Figures) -> dict:
    # Slack's date token shows the time in each reader's own time zone; the
    # text after `|` is what clients that cannot render it show instead.
    stamp = int(f.now.timestamp())
    utc = f.now.strftime("%Y-%m-%d %H:%M UTC")
    return _context(f"Figures as of <!date^{stamp}^{{date_short_pretty}} at {{time}}|{utc}>.")


def _week_in_a_sentence(f: Figures) -> str:
    week = 7 if 7 in f.opened else f.windows[0]
    opened, resolved = f.opened[week], f.resolved[week]
    if not opened and not resolved:
        summary = "A quiet week: nobody reported anything and there was nothing to close."
    else:
        summary = (
            f"Hello team! This week {_count(opened, 'incident')} came in and"
            f" {_count(resolved, 'incident')} got resolved."
        )
    stale = f.open_by_age[OVER_A_WEEK]
    if stale:
        summary += f" :hourglass: {_count(stale, 'incident')} still open after more than a week."
    return summary


def _field(title: str, value: object) -> dict:
    return {"type": "mrkdwn", "text": f"*{title}*\n{value}"}


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
