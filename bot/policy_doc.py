"""The policy as a readable document: what `warden policy` prints.

It describes what Warden does for this company in sentences, workflow by
workflow, and ends with the workflows that are turned off.
"""

from collections.abc import Iterable, Sequence
from datetime import timedelta

from bot.durations import format_duration
from bot.policy import Policy

_DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
_WEEK = list(_DAY_NAMES)


def render_markdown(policy: Policy) -> str:
    """The active workflows of a policy as a Markdown document."""
    sections = [
        _people(policy),
        _exposure_reminders(policy),
        _temporary_access(policy),
        _incidents(policy),
        _turned_off(policy),
    ]
    title = f"# Warden policy for {policy.company.name}"
    return "\n\n".join([title, *(section for section in sections if section)]) + "\n"


def _people(policy: Policy) -> str:
    hours = policy.working_hours
    lines = [
        "## Who and where",
        "",
        f"Company domains: {_words(f'`{d}`' for d in policy.company.domains)}.",
        f"Alerts and escalations go to {policy.security_channel}.",
        "",
        "Security analysts:",
        "",
        *(f"- {analyst}" for analyst in policy.analysts),
        "",
        f"Working hours are {hours.start:%H:%M}–{hours.end:%H:%M}, "
        f"{_days(hours.days)}, in each person's own Slack time zone.",
    ]
    if len(policy.people) == 1:
        lines.append("1 person has their GitHub login on file.")
    elif policy.people:
        lines.append(f"{len(policy.people)} people have their GitHub login on file.")
    return "\n".join(lines)


def _exposure_reminders(policy: Policy) -> str:
    drive, github = policy.scanners.drive, policy.scanners.github
    if not (drive.enabled or github.enabled):
        return ""

    lines = ["## Exposure reminders", ""]
    if drive.enabled:
        lines.append(
            f"- Google Drive is scanned every {_short(drive.every)}, "
            f"with a full scan every {_short(drive.full_scan_every)}."
        )
    if github.enabled:
        lines.append(
            f"- The GitHub organization `{github.org}` is scanned every {_short(github.every)}."
        )

    reminders = policy.reminders
    lines += [
        "",
        "Each owner gets one message per scan listing their new findings. "
        f"Open findings are sent again after {_cadence(reminders.cadence)}.",
    ]
    if reminders.escalate_after_last:
        lines.append(f"After the last reminder they are escalated to {policy.security_channel}.")
    else:
        lines.append("After the last reminder they are not escalated.")
    return "\n".join(lines)


def _temporary_access(policy: Policy) -> str:
    grants = policy.grants
    if not grants.enabled:
        return ""

    lines = [
        "## Temporary access",
        "",
        "Anyone can ask for time-boxed access; nobody approves their own request.",
        "",
        f"- Google Drive: at most {_short(grants.drive.max_duration)}, "
        f"as {_words(grants.drive.roles, 'or')}.",
        f"- GitHub: at most {_short(grants.github.max_duration)}, "
        f"as {_words(grants.github.roles, 'or')}.",
        "",
    ]
    if grants.allowed_domains:
        lines.append(f"Access may only go to {_words(grants.allowed_domains, 'or')}.")
    if grants.denied_domains:
        lines.append(f"Access never goes to {_words(grants.denied_domains, 'or')}.")
    lines.append(
        f"Requesters are reminded {_short(grants.remind_before_expiry)} "
        "before their access expires; at expiry Warden removes it."
    )
    return "\n".join(lines)


def _incidents(policy: Policy) -> str:
    incidents = policy.incidents
    if not incidents.enabled:
        return ""

    lines = [
        "## Incidents",
        "",
        "Anyone can report one of these to security:",
        "",
        *(f"- {kind}" for kind in incidents.kinds),
        "",
        f"Incidents are posted in {policy.security_channel} and assigned to an analyst "
        "by rotation. Owners of open follow-up tasks are reminded after "
        f"{_cadence(incidents.follow_up_cadence)}.",
    ]
    suricata = incidents.suricata
    if suricata.eve_path:
        severities = _words(range(1, suricata.min_severity + 1), "or")
        lines.append(
            f"Suricata alerts in `{suricata.eve_path}` of severity {severities} "
            "(1 is the most severe) open an incident by themselves; repeats between the "
            f"same hosts within {_short(incidents.dedup_window)} count on one incident."
        )
    lines += _incident_actions(incidents)
    return "\n".join(lines)


def _incident_actions(incidents) -> list[str]:
    lines = []
    if incidents.ticket_repository:
        lines.append(f"Tickets are GitHub issues in `{incidents.ticket_repository}`.")
    blocking = incidents.block_ips
    if blocking is not None:
        until = f" for {_short(blocking.expiry)}" if blocking.expiry else " until lifted by hand"
        lines.append(f"Analysts can block addresses in the WAF IP set "
                     f"`{blocking.ip_set_name}`{until}.")  # fmt: skip
    lines.append(f"A weekly digest is posted on {incidents.digest_day}.")
    return lines


def _turned_off(policy: Policy) -> str:
    off = []
    if not policy.scanners.drive.enabled:
        off.append("Google Drive scanner")
    if not policy.scanners.github.enabled:
        off.append("GitHub scanner")
    if not policy.grants.enabled:
        off.append("Temporary access")
    if not policy.incidents.enabled:
        off.append("Incidents")
    elif not policy.incidents.suricata.eve_path:
        off.append("Suricata alerts")
    if not off:
        return ""
    return "\n".join(["## Turned off", "", *(f"- {name}: off" for name in off)])


def _short(duration: timedelta) -> str:
    return format_duration(duration)


def _cadence(cadence: Sequence[timedelta]) -> str:
    return _words(_short(step) for step in cadence)


def _days(days: Sequence[str]) -> str:
    """Monday to Friday for a run of days in week order, else the days listed."""
    indexes = sorted(_WEEK.index(day) for day in days)
    if len(indexes) > 2 and indexes == list(range(indexes[0], indexes[-1] + 1)):
        return f"{_DAY_NAMES[_WEEK[indexes[0]]]} to {_DAY_NAMES[_WEEK[indexes[-1]]]}"
    return _words(_DAY_NAMES[_WEEK[index]] for index in indexes)


def _words(items: Iterable[object], joiner: str = "and") -> str:
    """'a', 'a and b', 'a, b and c'."""
    words = [str(item) for item in items]
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])} {joiner} {words[-1]}"
