"""Indicators of compromise: found in free text, judged offline first.

Extraction is ioc-finder's, which also reads defanged forms (`hxxp://`,
`evil[.]com`, `1.2.3[.]4`) back into real ones. Offline enrichment needs no
network: whether an address is private or reserved, and its country and
network (ASN) from the data geoip2fast ships. Online reputation lives in
`workflows.enrichment`.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# ioc-finder's names for what we keep, and ours for them.
_KINDS = {
    "ipv4s": "ipv4",
    "ipv6s": "ipv6",
    "domains": "domain",
    "urls": "url",
    "md5s": "md5",
    "sha1s": "sha1",
    "sha256s": "sha256",
    "email_addresses": "email",
}
KIND_ORDER = ["ipv4", "ipv6", "url", "domain", "email", "sha256", "sha1", "md5"]
# A report pasted from a mail client can hold hundreds of links; a card with
# that many lines helps nobody, and each one may cost an online lookup.
MAX_INDICATORS = 25


@dataclass(frozen=True)
class Indicator:
    kind: str
    value: str


def extract(text: str) -> list[Indicator]:
    """Indicators in `text`, in a stable order, domains inside URLs or emails dropped."""
    from ioc_finder import find_iocs  # slow to import (a grammar is built): only when used

    found = find_iocs(text or "", parse_urls_without_scheme=False)
    by_kind = {ours: list(dict.fromkeys(found.get(theirs) or []))
               for theirs, ours in _KINDS.items()}  # fmt: skip
    by_kind["domain"] = _standalone_domains(by_kind)
    indicators = [Indicator(kind, value) for kind in KIND_ORDER for value in by_kind[kind]]
    return indicators[:MAX_INDICATORS]


def _standalone_domains(by_kind: dict[str, list[str]]) -> list[str]:
    """Domains that are not just the host of a URL or the tail of an email already listed."""
    covered = {value.split("@", 1)[1].lower() for value in by_kind["email"]}
    for url in by_kind["url"]:
        host = url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        covered.add(host.lower())
    return [domain for domain in by_kind["domain"] if domain.lower() not in covered]


# A Drive file's id in its link (/d/ID or ?id=ID); real ids are 25 to 44 characters.
DRIVE_URL = re.compile(
    r"https?://(?:docs|drive)\.google\.com/\S*?(?:/d/|[?&]id=)"
    r"([A-Za-z0-9_-]{10,100})(?![A-Za-z0-9_-])"
)


def drive_files(incident: dict, indicators: list[dict]) -> list[str]:
    """Drive file ids an incident points at: in its link or its URL indicators."""
    urls = [item["value"] for item in indicators if item["kind"] == "url"]
    urls.append(incident["link"] or "")
    found = [match.group(1) for url in urls for match in DRIVE_URL.finditer(url)]
    return list(dict.fromkeys(found))


def address_of(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def is_public(value: str) -> bool:
    address = address_of(value)
    return address is not None and address.is_global


def offline_facts(indicator: Indicator) -> dict:
    """What we know without asking anyone: scope, and country and ASN for public IPs."""
    address = address_of(indicator.value) if indicator.kind in ("ipv4", "ipv6") else None
    if address is None:
        return {}
    if not address.is_global:
        return {"scope": _scope(address)}
    facts = {"scope": "public"}
    facts.update(_geo().lookup(str(address)))
    return facts


def _scope(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if address.is_loopback:
        return "loopback"
    if address.is_private:
        return "private"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    return "reserved"


class _Geo:
    """geoip2fast with its ASN data file; loaded once, on first use (a fifth of a second)."""

    def __init__(self) -> None:
        import geoip2fast
        from geoip2fast import GeoIP2Fast

        data = Path(geoip2fast.__file__).parent
        self._reader = GeoIP2Fast(geoip2fast_data_file=str(data / "geoip2fast-asn-ipv6.dat.gz"))

    def lookup(self, address: str) -> dict:
        try:
            answer = self._reader.lookup(address).to_dict()
        except Exception:  # a lookup problem must never block an incident
            log.exception("geoip.lookup_failed")
            return {}
        facts = {}
        if answer.get("country_code") not in (None, "", "--"):
            facts["country"] = answer["country_code"]
        if answer.get("asn_name"):
            facts["network"] = answer["asn_name"]
        return facts


def warm_up() -> None:
    """Load the country and network data now (a quarter second, ~115 MB), so the
    first alert does not wait for it inside its transaction."""
    _geo()


_geo_lock = threading.Lock()
_geo_reader: _Geo | None = None


def _geo() -> _Geo:
    global _geo_reader
    with _geo_lock:
        if _geo_reader is None:
            _geo_reader = _Geo()
        return _geo_reader
