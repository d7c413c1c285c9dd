"""What every listener and job needs, assembled once by the process."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.policy import Policy
from bot.sender import OutboxSender
from bot.settings import Settings
from state import Store
from workflows.findings import FindingsWorkflow
from workflows.grants import GrantsWorkflow
from workflows.incident_actions import IncidentActions
from workflows.incidents import IncidentsWorkflow
from workflows.people import People

if TYPE_CHECKING:
    from bot.drive import DriveScanJob


@dataclass
class Warden:
    settings: Settings
    policy: Policy
    store: Store
    sender: OutboxSender
    people: People
    background: ThreadPoolExecutor  # work that runs after a listener has acked
    enrichment: ThreadPoolExecutor | None = None  # online intel lookups, apart from clicks
    findings: FindingsWorkflow | None = None
    drive_scan: DriveScanJob | None = None
    grants: GrantsWorkflow | None = None
    incidents: IncidentsWorkflow | None = None
    incident_actions: IncidentActions | None = None
