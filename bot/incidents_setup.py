"""Assembles incidents from settings and policy: the workflow, its Slack side,
and the intel providers that have keys."""

from __future__ import annotations

import threading

from bot.grants_setup import PeopleApprovers
from bot.incident_card import Capabilities
from bot.incidents_notifier import SlackIncidentNotifier
from bot.policy import Policy
from bot.settings import Settings
from integrations.intel import AbuseIPDB, VirusTotal
from state import Store
from workflows.enrichment import CachedProvider, OnlineEnricher
from workflows.incidents import IncidentPolicy, IncidentsWorkflow
from workflows.people import People


def capabilities(settings: Settings, policy: Policy) -> Capabilities:
    """Which card buttons can work here: each needs its outside system configured."""
    return Capabilities(
        block=policy.incidents.block_ips is not None,
        quarantine=settings.google_ready() is None,
        ticket=bool(policy.incidents.ticket_repository and settings.github_token),
        page=bool(settings.pagerduty_routing_key),
    )


def incident_notifier(settings: Settings, policy: Policy) -> SlackIncidentNotifier:
    return SlackIncidentNotifier(policy.security_channel, capabilities(settings, policy))


def intel_providers(settings: Settings, policy: Policy, store: Store,
                    stop: threading.Event) -> list:  # fmt: skip
    ttl = policy.incidents.intel_cache_ttl.total_seconds()
    providers = []
    if settings.abuseipdb_api_key:
        options = {"base_url": settings.abuseipdb_api_url} if settings.abuseipdb_api_url else {}
        providers.append(AbuseIPDB(settings.abuseipdb_api_key.reveal(), stop=stop, **options))
    if settings.virustotal_api_key:
        options = {"base_url": settings.virustotal_api_url} if settings.virustotal_api_url else {}
        providers.append(VirusTotal(settings.virustotal_api_key.reveal(), stop=stop, **options))
    return [CachedProvider(provider, store, ttl) for provider in providers]


def incidents_workflow(settings: Settings, policy: Policy, store: Store, people: People,
                       notifier: SlackIncidentNotifier,
                       stop: threading.Event) -> IncidentsWorkflow | None:  # fmt: skip
    """None when incidents are switched off in the policy."""
    if not policy.incidents.enabled:
        return None
    section = policy.incidents
    rules = IncidentPolicy(
        kinds=list(section.kinds), dedup_window=section.dedup_window,
        min_suricata_severity=section.suricata.min_severity,
        follow_up_cadence=list(section.follow_up_cadence),
    )  # fmt: skip
    enricher = OnlineEnricher(intel_providers(settings, policy, store, stop))
    analysts = PeopleApprovers(people, store, policy).analysts
    return IncidentsWorkflow(store, notifier, rules, analysts, enricher)
