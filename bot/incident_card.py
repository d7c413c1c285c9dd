"""Block Kit for incidents: the card in the security channel and its modals.

Everything a reporter, an alert or an intel provider wrote is escaped here,
once, at rendering: `<!channel>` in a report stays text, and a disguised
link shows both what it says and where it goes. Timeline details are
written escaped by the workflow, so they are shown as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.text import escape, truncate
from bot.views import section, target_button
from state.clock import from_iso, utcnow
from workflows.indicators import drive_files

TAKE, REASSIGN, ENRICH = "incident_take", "incident_reassign", "incident_enrich"
ADD_TASK, RESOLVE, THANK = "incident_add_task", "incident_resolve", "incident_thank"
BLOCK_IP, QUARANTINE, RESTORE = "incident_block_ip", "incident_quarantine", "incident_restore"
TICKET, PAGE, TASK_DONE = "incident_ticket", "incident_page", "incident_task_done"
REPORT_MODAL, RESOLVE_MODAL, TASK_MODAL = "incident_report", "incident_resolve_modal", "task_modal"
REASSIGN_MODAL, ASSIGNEE_BLOCK = "incident_reassign_modal", "assignee"
KIND_BLOCK, WHAT_BLOCK, LINK_BLOCK = "kind", "description", "link"
RESOLUTION_BLOCK, CATEGORY_BLOCK = "resolution", "category"
TASK_TEXT_BLOCK, TASK_OWNER_BLOCK, TASK_DUE_BLOCK = "task_text", "task_owner", "task_due"

STATUS_EMOJI = {"open": ":red_circle:", "acknowledged": ":large_orange_circle:",
                "resolved": ":white_check_mark:"}  # fmt: skip
CATEGORY_NAMES = {"true_positive": "True positive", "false_positive": "False positive",
                  "benign": "Benign"}  # fmt: skip
MAX_INDICATOR_LINES = 10
MAX_BLOCK_BUTTONS = 3


@dataclass(frozen=True)
class Capabilities:
    """Which outside systems are configured, so the card offers only what works."""

    block: bool = False
    quarantine: bool = False
    ticket: bool = False
    page: bool = False


def card_text(incident: dict) -> str:
    return (f"Incident {incident['id']} ({incident['kind']}, {incident['severity']}): "
            f"{escape(incident['title'])}")  # fmt: skip


def card_blocks(incident: dict, indicators: list[dict], tasks: list[dict],
                extras: dict, capabilities: Capabilities) -> list[dict]:  # fmt: skip
    """The whole card; `extras` carries live blocks and quarantines."""
    blocks = [_headline(incident), _body(incident), _facts(incident, tasks)]
    if indicators:
        blocks.append(section("*Indicators*\n" + _indicator_lines(indicators)))
    if incident["intel_notes"]:
        notes = "; ".join(escape(note) for note in incident["intel_notes"])
        blocks.append(_context(f":warning: Enrichment incomplete: {notes}"))
    if incident["status"] == "resolved":
        blocks.append(_resolution(incident))
        blocks.extend(_after_resolution(incident, extras))
    else:
        blocks.extend(_actions(incident, indicators, extras, capabilities))
    return blocks


def _after_resolution(incident: dict, extras: dict) -> list[dict]:
    """What still makes sense once resolved: undo a quarantine, thank the reporter."""
    iid = incident["id"]
    buttons = [target_button(RESTORE, quarantine_id, "Restore sharing")
               for quarantine_id in extras.get("quarantined", {}).values()]  # fmt: skip
    if incident["reporter"] and not incident["thanked_at"]:
        buttons.append(target_button(THANK, iid, "Thank reporter"))
    if not buttons:
        return []
    return [{"type": "actions", "block_id": f"incident_{iid}_after", "elements": buttons[:5]}]


def _headline(incident: dict) -> dict:
    emoji = STATUS_EMOJI[incident["status"]]
    return section(
        f"{emoji} *Incident {incident['id']}*: {escape(incident['title'])}\n"
        f"*{incident['kind']}* · severity *{incident['severity']}* · *{incident['status']}*"
    )


def _body(incident: dict) -> dict:
    # Where it came from first: a long report is cut at the end, never these.
    lines = []
    if incident["link"]:
        lines.append(f"Link: {_shown_link(incident['link'])}")
    if incident["source"] == "shortcut":
        author = f"<@{incident['quoted_author']}>" if incident["quoted_author"] else "someone"
        where = incident["quoted_permalink"]
        lines.append(f"From a message by {author}" + (f": {_shown_link(where)}" if where else ""))
    quoted = ">" + escape(incident["description"]).replace("\n", "\n>")
    room = 3000 - sum(len(line) + 1 for line in lines)
    return section("\n".join([*lines, _cut_whole(quoted, room)]))


def _cut_whole(text: str, limit: int) -> str:
    """Cut escaped text without splitting an entity like &amp;."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def _shown_link(url: str) -> str:
    """A URL as plain text: what it is, never what someone labelled it."""
    return f"`{_cut_whole(escape(url), 300)}`"


def _facts(incident: dict, tasks: list[dict]) -> dict:
    reporter = f"<@{incident['reporter']}>" if incident["reporter"] else "Suricata"
    assignee = f"<@{incident['assignee']}>" if incident["assignee"] else "nobody"
    fields = [f"*Reporter*\n{reporter}", f"*Assignee*\n{assignee}",
              f"*Opened*\n{_when(incident['opened_at'])}"]  # fmt: skip
    if incident["source"] == "suricata":
        last = _when(incident["last_seen_at"])
        fields.append(f"*Alerts*\n{incident['alert_count']} (last {last})")
    if incident["ticket_url"]:
        fields.append(f"*Ticket*\n<{incident['ticket_url']}|#{incident['ticket_number']}>")
    if incident["paged_at"]:
        fields.append(f"*Paged*\n{_when(incident['paged_at'])}")
    open_tasks = [task for task in tasks if task["status"] == "open"]
    if tasks:
        fields.append(f"*Tasks*\n{len(open_tasks)} open of {len(tasks)}")
    return {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields[:10]]}


def _indicator_lines(indicators: list[dict]) -> str:
    lines = [f"• {item['kind']} `{escape(item['value'])}`{_enrichment(item['enrichment'])}"
             for item in indicators[:MAX_INDICATOR_LINES]]  # fmt: skip
    if len(indicators) > MAX_INDICATOR_LINES:
        lines.append(f"…and {len(indicators) - MAX_INDICATOR_LINES} more")
    return truncate("\n".join(lines), 2900)


def _enrichment(facts: dict) -> str:
    parts = []
    if facts.get("scope") and facts["scope"] != "public":
        parts.append(facts["scope"])
    parts.extend(escape(str(facts[key])) for key in ("country", "network") if facts.get(key))
    for verdict in facts.get("verdicts", []):
        flag = ":rotating_light: " if verdict.get("malicious") else ""
        parts.append(f"{flag}{escape(verdict['provider'])}: {escape(verdict['summary'])}")
    return " — " + "; ".join(parts) if parts else ""


def _resolution(incident: dict) -> dict:
    category = CATEGORY_NAMES.get(incident["category"] or "", "resolved")
    return section(
        f"*{category}*, resolved by <@{incident['resolved_by']}> "
        f"{_when(incident['resolved_at'])}:\n"
        f">{escape(truncate(incident['resolution'] or '', 1000))}"
    )


def _actions(incident: dict, indicators: list[dict], extras: dict,
             capabilities: Capabilities) -> list[dict]:  # fmt: skip
    iid = incident["id"]
    first = [
        target_button(TAKE, iid, "Take", "primary"),
        target_button(REASSIGN, iid, "Reassign"),
        target_button(ENRICH, iid, "Enrich again"),
        target_button(ADD_TASK, iid, "Add task"),
        target_button(RESOLVE, iid, "Resolve", "danger"),
    ]  # fmt: skip
    second = _effect_buttons(incident, indicators, extras, capabilities)
    if incident["reporter"] and not incident["thanked_at"]:
        second.append(target_button(THANK, iid, "Thank reporter"))
    blocks = [{"type": "actions", "block_id": f"incident_{iid}", "elements": first}]
    if second:
        blocks.append({"type": "actions", "block_id": f"incident_{iid}_act", "elements": second})
    return blocks


def _effect_buttons(incident: dict, indicators: list[dict], extras: dict,
                    capabilities: Capabilities) -> list[dict]:  # fmt: skip
    iid, buttons = incident["id"], []
    if capabilities.block:
        blocked = set(extras.get("blocked", []))
        for address in blockable_addresses(indicators)[:MAX_BLOCK_BUTTONS]:
            if address not in blocked:
                buttons.append(_block_button(iid, address))
    if capabilities.quarantine:
        quarantined = extras.get("quarantined", {})
        for file_id in drive_files(incident, indicators)[:2]:
            if file_id in quarantined:
                buttons.append(target_button(RESTORE, quarantined[file_id], "Restore sharing"))
            else:
                buttons.append(_file_button(iid, file_id))
    if capabilities.ticket and not incident["ticket_number"]:
        buttons.append(target_button(TICKET, iid, "Create ticket"))
    if capabilities.page and not incident["paged_at"]:
        buttons.append(target_button(PAGE, iid, "Page on-call", "danger"))
    return buttons


def _block_button(iid: int, address: str) -> dict:
    return {
        "type": "button", "action_id": f"{BLOCK_IP}:{iid}:{address}",
        "value": f"{iid}|{address}", "text": {"type": "plain_text", "text": f"Block {address}"},
        "confirm": _confirm("Block this address?",
                            f"{address} will be added to the firewall's block list.", "Block"),
    }  # fmt: skip


def _file_button(iid: int, file_id: str) -> dict:
    return {
        "type": "button", "action_id": f"{QUARANTINE}:{iid}:{file_id}",
        "value": f"{iid}|{file_id}", "text": {"type": "plain_text", "text": "Quarantine file"},
        "confirm": _confirm("Quarantine the file?",
                            "Every share but the owner's and link sharing will be removed; "
                            "Restore sharing puts them back.", "Quarantine"),
    }  # fmt: skip


def _confirm(title: str, text: str, confirm: str) -> dict:
    return {"title": {"type": "plain_text", "text": title},
            "text": {"type": "plain_text", "text": text},
            "confirm": {"type": "plain_text", "text": confirm},
            "deny": {"type": "plain_text", "text": "Cancel"}}  # fmt: skip


def blockable_addresses(indicators: list[dict]) -> list[str]:
    """Public addresses only: blocking our own network would cut us off."""
    return [item["value"] for item in indicators if item["kind"] in ("ipv4", "ipv6")
            and (item["enrichment"] or {}).get("scope") == "public"]  # fmt: skip


def report_line(incident: dict) -> str:
    """A reporter's view of their report, for the App Home."""
    status = {"open": "waiting for an analyst", "acknowledged": "being looked at",
              "resolved": "resolved"}[incident["status"]]  # fmt: skip
    line = (f"{STATUS_EMOJI[incident['status']]} *{incident['id']}* "
            f"{escape(truncate(incident['title'], 80))}: {status}")
    if incident["status"] == "resolved" and incident["category"]:
        line += f" ({CATEGORY_NAMES[incident['category']].lower()})"
    return line


def queue_line(incident: dict) -> str:
    """An analyst's line in the open queue: age, severity, who has it."""
    age = _age(incident["opened_at"])
    who = f"<@{incident['assignee']}>" if incident["assignee"] else "nobody"
    return (f"{STATUS_EMOJI[incident['status']]} *{incident['id']}* {incident['severity']} · "
            f"{escape(truncate(incident['title'], 60))} · {age} old · {who}")


def _age(iso: str) -> str:
    seconds = max((utcnow() - from_iso(iso)).total_seconds(), 0)
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"


def _when(iso: str | None) -> str:
    return from_iso(iso).strftime("%a %d %b %H:%M UTC") if iso else "—"


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(text, 3000)}]}


# -- modals --------------------------------------------------------------------


def report_modal(kinds: list[str], prefill: dict | None = None) -> dict:
    """The report form; the message shortcut prefills the text, author and permalink."""
    prefill = prefill or {}
    options = [{"text": {"type": "plain_text", "text": truncate(kind.capitalize(), 75)},
                "value": kind}
               for kind in kinds]  # fmt: skip
    kind_element = {"type": "static_select", "action_id": "value", "options": options,
                    "placeholder": {"type": "plain_text", "text": "What kind of thing?"}}
    if prefill.get("kind") in kinds:
        kind_element["initial_option"] = options[kinds.index(prefill["kind"])]
    what = {"type": "plain_text_input", "action_id": "value", "multiline": True,
            "max_length": 3000}  # fmt: skip
    if prefill.get("description"):
        what["initial_value"] = truncate(prefill["description"], 3000)
    link = {"type": "url_text_input", "action_id": "value"}
    if prefill.get("link"):
        link["initial_value"] = prefill["link"]
    return {
        "type": "modal", "callback_id": REPORT_MODAL,
        "private_metadata": prefill.get("metadata", ""),
        "title": {"type": "plain_text", "text": "Report to security"},
        "submit": {"type": "plain_text", "text": "Report"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _input(KIND_BLOCK, "Kind", kind_element),
            _input(WHAT_BLOCK, "What happened?", what),
            _input(LINK_BLOCK, "Link (optional)", link, optional=True),
        ],
    }  # fmt: skip


def resolve_modal(incident_id: int) -> dict:
    options = [{"text": {"type": "plain_text", "text": name}, "value": value}
               for value, name in CATEGORY_NAMES.items()]  # fmt: skip
    return {
        "type": "modal", "callback_id": RESOLVE_MODAL, "private_metadata": str(incident_id),
        "title": {"type": "plain_text", "text": f"Resolve #{incident_id}"},
        "submit": {"type": "plain_text", "text": "Resolve"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _input(CATEGORY_BLOCK, "Category", {"type": "radio_buttons", "action_id": "value",
                                                "options": options}),
            _input(RESOLUTION_BLOCK, "Resolution (the reporter sees this)",
                   {"type": "plain_text_input", "action_id": "value", "multiline": True,
                    "max_length": 1000}),
        ],
    }  # fmt: skip


def reassign_modal(incident_id: int) -> dict:
    return {
        "type": "modal", "callback_id": REASSIGN_MODAL, "private_metadata": str(incident_id),
        "title": {"type": "plain_text", "text": f"Reassign #{incident_id}"},
        "submit": {"type": "plain_text", "text": "Reassign"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [_input(ASSIGNEE_BLOCK, "To which analyst?",
                          {"type": "users_select", "action_id": "value"})],
    }  # fmt: skip


def task_modal(incident_id: int) -> dict:
    return {
        "type": "modal", "callback_id": TASK_MODAL, "private_metadata": str(incident_id),
        "title": {"type": "plain_text", "text": "Add a follow-up task"},
        "submit": {"type": "plain_text", "text": "Add"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _input(TASK_TEXT_BLOCK, "What needs doing",
                   {"type": "plain_text_input", "action_id": "value", "max_length": 500}),
            _input(TASK_OWNER_BLOCK, "Owner", {"type": "users_select", "action_id": "value"}),
            _input(TASK_DUE_BLOCK, "Due", {"type": "datepicker", "action_id": "value"}),
        ],
    }  # fmt: skip


def _input(block_id: str, label: str, element: dict, optional: bool = False) -> dict:
    block = {"type": "input", "block_id": block_id,
             "label": {"type": "plain_text", "text": label}, "element": element}
    return {**block, "optional": True} if optional else block
