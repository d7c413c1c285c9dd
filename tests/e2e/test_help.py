"""People ask Warden what it can do: by command, by DM, and on the App Home."""

import re

from tests.e2e.harness import all_text


def test_warden_help_answers_privately_with_the_commands(warden, alice):
    """`/warden help` answers only the asker, listing the commands and shortcuts."""
    delivery = alice.runs("/warden help")

    answer = all_text(delivery.ack_payload)
    assert "/securityalert" in answer
    assert "/access" in answer
    assert "Report to security" in answer
    assert delivery.ack_payload.get("response_type", "ephemeral") == "ephemeral"


def test_warden_alone_is_help(warden, alice):
    """`/warden` with no words shows the same overview as `/warden help`."""
    alone = alice.runs("/warden")
    help_ = alice.runs("/warden help")

    assert all_text(alone.ack_payload) == all_text(help_.ack_payload)


def test_unknown_subcommand_suggests_the_closest(warden, alice):
    """A typo gets "did you mean" with the nearest subcommand."""
    delivery = alice.runs("/warden hlep")

    assert "Did you mean `/warden help`?" in all_text(delivery.ack_payload)


def test_help_in_a_dm_gets_the_overview(warden, alice):
    """Writing "help" to the bot gets the overview as a DM reply."""
    alice.says_to_warden("help")

    replies = alice.wait_for_dms(1)
    assert "/securityalert" in all_text(replies[0])


def test_unclear_dm_says_so_and_shows_help(warden, alice):
    """A DM Warden does not understand is answered, not ignored."""
    alice.says_to_warden("can you fix my printer")

    replies = alice.wait_for_dms(1)
    assert "didn't catch that" in all_text(replies[0])


def test_app_home_is_published_when_opened(warden, alice, slack):
    """Opening the App Home publishes a view greeting the person by name."""
    alice.opens_home()

    home = slack.wait_for(alice.home, message="App Home was not published")
    assert "Hi alice" in all_text(home)
    assert "Your findings" in all_text(home)


def _answer(person) -> str:
    answers = person.slack.wait_for(person.ephemerals, message="no answer to /warden whoami")
    return all_text(answers[-1])


def test_analyst_is_recognised_by_email_from_the_policy(warden, sam):
    """The policy names analysts by email; Warden maps them to Slack accounts."""
    sam.runs("/warden whoami")

    assert "a security analyst" in _answer(sam)
    assert "America/New_York" in _answer(sam)


def test_employee_is_not_an_analyst(warden, alice):
    """Someone the policy does not name is an employee."""
    alice.runs("/warden whoami")

    assert "an employee" in _answer(alice)


def test_a_failure_shows_the_person_an_id_that_is_in_the_log(warden, alice, slack):
    """When Slack keeps failing a lookup, the person gets a short id the operator can find."""
    slack.rate_limit("users.info", times=50, retry_after=0)

    alice.runs("/warden whoami")

    answer = _answer(alice)
    error_id = re.search(r"error `([0-9a-f]{6})`", answer).group(1)
    assert f'"error_id": "{error_id}"' in warden.logs()
