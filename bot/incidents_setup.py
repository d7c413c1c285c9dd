"""Assembles incidents from settings and policy: the workflow, its Slack side,
and the intel providers that have keys."""

from __future__ import annotations

import threading

from bot.drive import google_workspace
from bot.grants_setup import PeopleApprovers
from bot.incident_card import Capabilities
from bot.incidents_notifier import SlackIncidentNotifier
from bot.policy import Policy
from bot.settings import Settings
from integrations.github import GitHub
from integrations.intel import AbuseIPDB, VirusTotal
from integrations.pagerduty import PagerDuty
from integrations.waf import IpSetRef, WafBlocklist
from state import Store
from workflows.enrichment import CachedProvider, OnlineEnricher
from workflows.incident_actions import Effects, IncidentActions
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


def incident_effects(settings: Settings, policy: Policy,
                     stop: threading.Event) -> Effects:  # fmt: skip
    """The outside systems the card's actions reach, each only when configured."""
    section, effects = policy.incidents, Effects()
    if section.block_ips is not None:
        ip_set = IpSetRef(section.block_ips.ip_set_name, section.block_ips.ip_set_id,
                          section.block_ips.scope)  # fmt: skip
        # boto3 reads credentials and AWS_ENDPOINT_URL from the environment itself.
        effects.blocklist = WafBlocklist(ip_set, region=section.block_ips.region, stop=stop)
        effects.block_expiry = section.block_ips.expiry
    if settings.google_ready() is None:
        effects.drive = google_workspace(settings, stop)
        effects.admin_email = settings.google_admin_email
    if section.ticket_repository and settings.github_token:
        effects.tickets = GitHub(settings.github_token.reveal(), settings.github_api_url, stop)
        effects.ticket_repository = section.ticket_repository
    if settings.pagerduty_routing_key:
        options = {"events_url": settings.pagerduty_events_url} if (
            settings.pagerduty_events_url) else {}
        effects.pager = PagerDuty(settings.pagerduty_routing_key.reveal(), stop=stop, **options)
    return effects


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
    enricher = OnlineEnricher(intel_providers(settings, policy, store, stop), stop)
    analysts = PeopleApprovers(people, store, policy).analysts
    return IncidentsWorkflow(store, notifier, rules, analysts, enricher)


def incident_actions(settings: Settings, policy: Policy, store: Store, people: People,
                     incidents: IncidentsWorkflow | None,
                     stop: threading.Event) -> IncidentActions | None:  # fmt: skip
    if incidents is None:
        return None

    def email_of(slack_user_id: str) -> str | None:
        return (people.get(slack_user_id) or {}).get("email")

    return IncidentActions(store, incidents, incident_effects(settings, policy, stop), email_of)
