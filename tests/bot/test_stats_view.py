"""How the figures read in Slack: `/warden stats`, the weekly digest and the fallback text."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot import stats_view as view
from tests.emulators.slack.blocks import validate_blocks
from workflows.incident_stats import Figures

NOW = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
CATEGORIES = {"true_positive": 2, "false_positive": 1, "benign": 0}


def busy_week(windows=(7, 30)) -> Figures:
    def each(value):
        return dict.fromkeys(windows, value)

    return Figures(
        now=NOW,
        open_by_age={"under 1 day": 2, "1–7 days": 1, "over 7 days": 3},
        mttd=each(timedelta(hours=2, minutes=15)),
        mttd_median=each(timedelta(minutes=50)),
        mttr=each(timedelta(days=3, hours=4)),
        mttr_median=each(timedelta(days=1)),
        opened=each(4), resolved=each(3), findings_opened=each(12), findings_closed=each(9),
        active_grants=1,
        by_category=each(CATEGORIES),
    )  # fmt: skip


def quiet_week() -> Figures:
    none, zero = {7: None, 30: None}, {7: 0, 30: 0}
    return Figures(
        now=NOW,
        open_by_age={"under 1 day": 0, "1–7 days": 0, "over 7 days": 0},
        mttd=none, mttd_median=none, mttr=none, mttr_median=none,
        opened=zero, resolved=zero, findings_opened=zero, findings_closed=zero,
        active_grants=0,
        by_category={7: dict.fromkeys(CATEGORIES, 0), 30: dict.fromkeys(CATEGORIES, 0)},
    )  # fmt: skip


def all_text(blocks: list[dict]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


@pytest.mark.parametrize(
    ("duration", "shown"),
    [
        (None, "—"),
        (timedelta(0), "0 s"),
        (timedelta(seconds=45), "45 s"),
        (timedelta(minutes=12, seconds=59), "12 min"),
        (timedelta(hours=2), "2 h"),
        (timedelta(hours=2, minutes=15, seconds=30), "2 h 15 min"),
        (timedelta(days=3, hours=4, minutes=59), "3 d 4 h"),
        (timedelta(days=30), "30 d"),
    ],
)
def test_durations_read_like_people_say_them(duration, shown):
    """Two units at most, cut and not rounded; no figure at all is a dash."""
    assert view.human_duration(duration) == shown


@pytest.mark.parametrize("render", [view.stats_blocks, view.digest_blocks])
@pytest.mark.parametrize("week", [busy_week, quiet_week])
def test_both_messages_are_blocks_slack_accepts(render, week):
    """Busy or quiet, the stats answer and the digest pass Slack's Block Kit checks."""
    blocks = render(week())

    assert validate_blocks(blocks) == []
    assert all(len(block.get("fields", [])) <= 10 for block in blocks)


def test_stats_show_every_figure_per_window():
    """Counts, both times with their medians, findings, categories and grants are there."""
    blocks = view.stats_blocks(busy_week())

    text = all_text(blocks)
    assert blocks[0]["text"]["text"] == "Security figures"
    assert "*Open incidents:* 6" in text
    assert "*Over 7 days*\\n3" in text
    assert "*Last 7 days*" in text and "*Last 30 days*" in text
    assert "2 h 15 min\\n_median 50 min_" in text
    assert "3 d 4 h\\n_median 1 d_" in text
    assert "*Findings closed*\\n9" in text
    assert "true positive: 2 · false positive: 1 · benign: 0" in text
    assert "1 grant" in text


def test_missing_times_show_as_a_dash_without_a_median():
    """A week nobody acknowledged anything shows "—", not 0 or "None"."""
    blocks = view.stats_blocks(quiet_week())

    text = all_text(blocks)
    assert "*Mean time to acknowledge*\\n—" in text
    assert "None" not in text and "median" not in text
    assert "Nothing resolved." in text


def test_the_digest_has_its_header_and_a_friendly_summary():
    """The weekly post says what came in, what was resolved and what is getting old."""
    blocks = view.digest_blocks(busy_week())

    assert blocks[0] == {"type": "header",
                         "text": {"type": "plain_text", "text": "Security this week"}}  # fmt: skip
    summary = blocks[1]["text"]["text"]
    assert "4 incidents came in" in summary and "3 incidents got resolved" in summary
    assert "3 incidents still open after more than a week" in summary


def test_a_quiet_digest_says_so():
    assert "A quiet week" in view.digest_blocks(quiet_week())[1]["text"]["text"]


def test_the_time_of_the_figures_is_shown_in_each_readers_zone():
    """Slack's date token localises the time; its fallback is UTC."""
    context = view.stats_blocks(busy_week())[-1]["elements"][0]["text"]

    assert f"<!date^{int(NOW.timestamp())}^" in context
    assert "|2024-05-06 09:00 UTC>" in context


def test_many_windows_stay_inside_slacks_fifty_blocks():
    """Asking for a window per day of a month still gives a message Slack accepts."""
    blocks = view.digest_blocks(busy_week(windows=range(1, 31)))

    assert len(blocks) <= 50
    assert validate_blocks(blocks) == []


def test_the_fallback_text_has_the_headline_figures():
    text = view.stats_text(busy_week())

    assert text == (
        "Open incidents: 6. "
        "Last 7 days: 4 opened, 3 resolved, MTTD 2 h 15 min, MTTR 3 d 4 h. "
        "Last 30 days: 4 opened, 3 resolved, MTTD 2 h 15 min, MTTR 3 d 4 h. "
        "Active access grants: 1."
    )
