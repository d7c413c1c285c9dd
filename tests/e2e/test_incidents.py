"""Incidents reported by people, end to end: the real process and the Slack emulator."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.harness import Person, WardenProcess, all_text, button, policy_text

INCIDENTS_ON = "incidents:\n  enabled: true\n"


@pytest.fixture
def bob(slack) -> Person:
    return Person(slack, slack.add_user("bob", "bob@example.com"))


@pytest.fixture
def running(slack, workdir, alice, sam):
    (workdir / "warden.yaml").write_text(policy_text("#security", "sam@example.com") + INCIDENTS_ON)
    process = WardenProcess(slack, workdir).start()
    yield process
    if process.proc.poll() is None:
        process.stop()


def card_of(slack, channel: str, incident_id: int, containing: str = "") -> dict:
    def find():
        for message in slack.messages(channel):
            text = all_text(message)
            if f"Incident {incident_id}*" in text and containing in text:
                return message
        return None

    return slack.wait_for(find, timeout=20, message=f"card of incident {incident_id}")


def form_of(slack, person: Person, what: str) -> dict:
    return slack.wait_for(lambda: slack.top_view(person.user_id), timeout=10, message=what)


def form_errors(slack, person: Person) -> dict:
    return slack.wait_for(lambda: slack.view_errors(person.user_id), timeout=10,
                          message="form errors")  # fmt: skip


def thread_text(slack, channel: str, card: dict) -> str:
    return "\n".join(all_text(m) for m in slack.thread(channel, card["ts"]))


def wait_thread(slack, channel: str, card: dict, words: str) -> str:
    return slack.wait_for(lambda: words in thread_text(slack, channel, card)
                          and thread_text(slack, channel, card), timeout=20,
                          message=f"{words!r} in the incident's thread")  # fmt: skip


def dm_containing(slack, person: Person, words: str) -> dict:
    return slack.wait_for(
        lambda: next((m for m in person.dms() if words in all_text(m)), None),
        timeout=20, message=f"a DM to {person.user_id} with {words!r}",
    )  # fmt: skip


def test_report_by_command_posts_a_card_assigns_and_confirms(
    running, slack, alice, sam, security_channel
):
    alice.runs("/securityalert A mail from hxxp://login-example[.]net/reset asked for "
               "my password <!channel>")  # fmt: skip

    confirmation = slack.wait_for(
        lambda: next((m for m in alice.ephemerals() if "Incident 1 is open" in all_text(m)), None),
        timeout=10, message="the reporter's confirmation",
    )  # fmt: skip
    assert "security team" in all_text(confirmation)
    card = card_of(slack, security_channel, 1)
    text = all_text(card)
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text
    assert "http://login-example.net/reset" in text  # the defanged URL, found and refanged
    assert f"<@{sam.user_id}>" in text  # assigned by rotation: the only analyst
    assert dm_containing(slack, sam, "You're on incident 1")
    assert "Reported by" in wait_thread(slack, security_channel, card, "Assigned to")


def test_report_by_modal_with_a_disguised_link(running, slack, alice, security_channel):
    alice.runs("/securityalert")
    form_of(slack, alice, "the report form")

    slack.submit_view(alice.user_id, {
        "kind": {"value": "suspicious file"},
        "description": {"value": "This file <https://evil.example/x|https://intranet.example> "
                                 "came from outside"},
        "link": {"value": "https://drive.google.com/file/d/1AbCdEfGhIjKlMnOp/view"},
    })  # fmt: skip

    assert dm_containing(slack, alice, "Your report is incident 1")
    card = card_of(slack, security_channel, 1)
    text = all_text(card)
    assert "&lt;https://evil.example/x|https://intranet.example&gt;" in text
    assert "suspicious file" in text
    assert "drive.google.com/file/d/1AbCdEfGhIjKlMnOp" in text


def test_report_a_message_with_the_shortcut(running, slack, alice, bob, security_channel):
    general = slack.add_channel("general", members=[alice.user_id, bob.user_id])
    ts = bob.slack.say(bob.user_id, general, "Hi! Please pay invoice 7 at payments-example.biz")

    slack.message_shortcut(alice.user_id, "report_to_security", general, ts)
    form = form_of(slack, alice, "the prefilled form")
    assert "payments-example.biz" in str(form["blocks"])
    slack.submit_view(alice.user_id, {"kind": {"value": "phishing email"}})

    card = card_of(slack, security_channel, 1)
    text = all_text(card)
    assert f"From a message by <@{bob.user_id}>" in text
    assert "payments-example.biz" in text and "archives" in text  # the permalink


def test_take_add_task_resolve_and_thank(running, slack, alice, sam, security_channel):
    alice.runs("/securityalert someone called asking for my MFA code")
    card = card_of(slack, security_channel, 1)

    slack.click_button(sam.user_id, security_channel, card["ts"], button(card, "incident_take:"))
    card = card_of(slack, security_channel, 1, "acknowledged")
    wait_thread(slack, security_channel, card, "took the incident")

    slack.click_button(sam.user_id, security_channel, card["ts"],
                       button(card, "incident_add_task:"))  # fmt: skip
    form_of(slack, sam, "the task form")
    due = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%d")
    slack.submit_view(sam.user_id, {"task_text": {"value": "Reset alice's MFA <!here>"},
                                    "task_owner": {"value": alice.user_id},
                                    "task_due": {"value": due}})  # fmt: skip
    task_dm = dm_containing(slack, alice, "follow-up task")
    assert "&lt;!here&gt;" in all_text(task_dm)
    slack.click_button(alice.user_id, task_dm["channel"], task_dm["ts"],
                       button(task_dm, "incident_task_done:"))  # fmt: skip
    wait_thread(slack, security_channel, card, "finished task 1")

    card = card_of(slack, security_channel, 1)
    slack.click_button(sam.user_id, security_channel, card["ts"],
                       button(card, "incident_thank:"))  # fmt: skip
    assert "tips" in all_text(dm_containing(slack, alice, "Thank you for reporting"))

    card = card_of(slack, security_channel, 1)
    slack.click_button(sam.user_id, security_channel, card["ts"],
                       button(card, "incident_resolve:"))  # fmt: skip
    form_of(slack, sam, "the resolve form")
    slack.submit_view(sam.user_id, {"category": {"value": "true_positive"},
                                    "resolution": {"value": "Vishing; MFA reset, staff told."}})
    outcome = dm_containing(slack, alice, "is resolved")
    assert "true positive" in all_text(outcome)
    card = card_of(slack, security_channel, 1, "resolved")
    assert "incident_take" not in str(card["blocks"])  # no buttons on a closed incident
    running.stop()
    audit = running.cli("audit", "export").stdout
    for action in ("incident.opened", "incident.took", "incident.task_added",
                   "incident.task_done", "incident.thanked", "incident.resolved"):
        assert action in audit


def test_someone_not_an_analyst_cannot_press_card_buttons(
    running, slack, alice, bob, sam, security_channel
):
    alice.runs("/securityalert weird login prompt")
    card = card_of(slack, security_channel, 1)

    slack.forge_click(bob.user_id, security_channel, card["ts"], button(card, "incident_take:"))

    refusal = slack.wait_for(
        lambda: next((m for m in bob.ephemerals() if "analysts" in all_text(m)), None),
        timeout=10, message="the refusal",
    )  # fmt: skip
    assert "Only the security analysts" in all_text(refusal)
    assert "open" in all_text(card_of(slack, security_channel, 1))
    assert "took" not in thread_text(slack, security_channel, card)


def test_an_empty_report_says_what_is_expected(running, slack, alice):
    alice.runs("/securityalert")
    form_of(slack, alice, "the report form")
    slack.submit_view(alice.user_id, {"kind": {"value": "other"},
                                      "description": {"value": "   "}})  # fmt: skip
    errors = form_errors(slack, alice)
    assert errors == {"description": "Say what happened."}


def test_app_home_shows_my_reports_and_the_analysts_queue(
    running, slack, alice, sam, security_channel
):
    alice.runs("/securityalert my laptop was stolen from the car")
    card_of(slack, security_channel, 1)

    alice.opens_home()
    mine = slack.wait_for(lambda: "waiting for an analyst" in all_text(alice.home() or {})
                          and alice.home(), message="alice's reports on her Home")  # fmt: skip
    assert "my laptop was stolen" in all_text(mine)
    assert "Open incidents" not in all_text(mine)  # the queue is for analysts

    sam.opens_home()
    queue = slack.wait_for(lambda: "Open incidents" in all_text(sam.home() or {})
                           and sam.home(), message="the queue on sam's Home")  # fmt: skip
    assert "*1* medium" in all_text(queue) and f"<@{sam.user_id}>" in all_text(queue)


def test_stats_for_analysts_only(running, slack, alice, sam, security_channel):
    alice.runs("/securityalert phishing text message")
    card = card_of(slack, security_channel, 1)
    slack.click_button(sam.user_id, security_channel, card["ts"], button(card, "incident_take:"))
    card_of(slack, security_channel, 1, "acknowledged")

    sam.runs("/warden stats")
    figures = slack.wait_for(
        lambda: next((m for m in sam.ephemerals() if "Security figures" in all_text(m)), None),
        timeout=10, message="the figures",
    )  # fmt: skip
    text = all_text(figures)
    assert "Open incidents:* 1" in text and "Mean time to acknowledge" in text
    assert "7 days" in text and "30 days" in text
    assert "*Incidents opened*\n1" in text

    alice.runs("/warden stats")
    refusal = slack.wait_for(
        lambda: next((m for m in alice.ephemerals() if "analysts" in all_text(m)), None),
        timeout=10, message="the refusal",
    )  # fmt: skip
    assert "figures are for the security analysts" in all_text(refusal)


def test_a_message_in_a_private_channel_without_the_bot_is_reported_without_its_link(
    running, slack, alice, bob, security_channel
):
    secret = slack.add_channel("deals", members=[alice.user_id, bob.user_id], bot_member=False,
                               private=True)  # fmt: skip
    ts = slack.say(bob.user_id, secret, "wire the money to this new account today")

    slack.message_shortcut(alice.user_id, "report_to_security", secret, ts)
    form_of(slack, alice, "the prefilled form")
    slack.submit_view(alice.user_id, {"kind": {"value": "phishing email"}})

    text = all_text(card_of(slack, security_channel, 1))
    assert f"From a message by <@{bob.user_id}>" in text and "archives" not in text
    assert "wire the money" in text


@pytest.fixture
def two_analysts(slack, workdir, alice, sam):
    tom = Person(slack, slack.add_user("tom", "tom@example.com"))
    policy = policy_text("#security", "sam@example.com") + "  - tom@example.com\n" + INCIDENTS_ON
    (workdir / "warden.yaml").write_text(policy)
    process = WardenProcess(slack, workdir).start()
    yield tom
    process.stop()


def test_rotation_and_reassign_between_two_analysts(two_analysts, slack, alice, bob, sam,
                                                    security_channel):  # fmt: skip
    tom = two_analysts
    alice.runs("/securityalert first report")
    first = card_of(slack, security_channel, 1)
    alice.runs("/securityalert second report")
    second = card_of(slack, security_channel, 2)
    def assignee(card: dict) -> str:
        return next(p.user_id for p in (sam, tom)
                    if f"*Assignee*\n<@{p.user_id}>" in all_text(card))  # fmt: skip

    assert {assignee(first), assignee(second)} == {sam.user_id, tom.user_id}

    slack.click_button(sam.user_id, security_channel, first["ts"],
                       button(first, "incident_reassign:"))  # fmt: skip
    form_of(slack, sam, "the reassign form")
    slack.submit_view(sam.user_id, {"assignee": {"value": bob.user_id}})
    errors = form_errors(slack, sam)
    assert errors == {"assignee": "Choose one of the security analysts."}

    slack.submit_view(sam.user_id, {"assignee": {"value": tom.user_id}})
    assert dm_containing(slack, tom, "You're on incident 1")
    wait_thread(slack, security_channel, first, f"reassigned the incident to <@{tom.user_id}>")
