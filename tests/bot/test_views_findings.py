from bot import views_findings as views
from tests.emulators.slack.blocks import validate_blocks


def finding(n: int) -> dict:
    return {
        "id": n, "rule": "outside_user", "severity": "medium",
        "subject_name": f"<!channel> Quarterly numbers {n} " + "x" * 200,
        "details": {"shared_with": "cfo@rival.com", "link": f"https://docs.example/{n}"},
    }  # fmt: skip


def test_a_big_dm_stays_inside_slacks_limits():
    """Forty findings become a DM Slack accepts: ten listed, the rest pointed to the Home tab."""
    dm = views.owner_dm([finding(n) for n in range(40)])

    assert validate_blocks(dm["blocks"]) == []
    assert "30 more" in dm["blocks"][-1]["text"]["text"]


def test_file_names_cannot_ping_or_disguise_links():
    """A file named `<!channel>` is shown literally, not as a mention."""
    blocks = views.finding_blocks(finding(1))

    text = blocks[0]["text"]["text"]
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
