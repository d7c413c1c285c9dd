"""IntelEmulator: AbuseIPDB and VirusTotal on one loopback port.

    with IntelEmulator() as emu:
        emu.report_ip("203.0.113.9", confidence=87, reports=12, isp="Example Net")
        emu.add_file("44d88612fea8a8f36de82e1278abb02f", malicious=60)
        requests.get(f"{emu.abuseipdb_url}/check", params={"ipAddress": "203.0.113.9"},
                     headers={"Key": emu.abuseipdb_key, "Accept": "application/json"})

``abuseipdb_url`` is ``http://127.0.0.1:<port>/abuseipdb/api/v2`` and
``virustotal_url`` is ``…/virustotal/api/v3``: what the clients take as
``base_url``. Keys are made up per emulator. Every request is counted by
endpoint (``abuseipdb.check``, ``virustotal.files``, ``virustotal.urls``,
``virustotal.domains``), and a test can plan failures or take a provider down.
Public methods are synchronous and thread-safe.
"""

from __future__ import annotations

import secrets
import string
import time
from collections.abc import Callable

from aiohttp import web

from tests.emulators.loop_server import LoopServer

from .abuseipdb import PREFIX as ABUSEIPDB_PREFIX
from .abuseipdb import AbuseIpdbApi, Reported
from .faults import Faults
from .virustotal import FILE_ENGINES, URL_ENGINES, VirusTotalApi, analysis_stats
from .virustotal import PREFIX as VIRUSTOTAL_PREFIX


class IntelEmulator(LoopServer):
    """Two threat-intel providers with the answers a test seeds."""

    thread_name = "intel-emulator"

    def __init__(self, *, port: int = 0, clock: Callable[[], float] = time.time) -> None:
        LoopServer.__init__(self, port)
        # The shapes of real keys: AbuseIPDB 80 lower-case letters and
        # digits, VirusTotal 64 hex digits.
        alphabet = string.ascii_lowercase + string.digits
        self.abuseipdb_key = "".join(secrets.choice(alphabet) for _ in range(80))
        self.virustotal_key = secrets.token_hex(32)
        self.faults = Faults()
        self.abuseipdb = AbuseIpdbApi(self.abuseipdb_key, clock)
        self.virustotal = VirusTotalApi(self.virustotal_key, lambda: self.virustotal_url)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def abuseipdb_url(self) -> str:
        return self.url + ABUSEIPDB_PREFIX

    @property
    def virustotal_url(self) -> str:
        return self.url + VIRUSTOTAL_PREFIX

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._count_and_fail])
        self.abuseipdb.add_routes(app)
        self.virustotal.add_routes(app)
        return app

    @web.middleware
    async def _count_and_fail(self, request: web.Request, handler) -> web.StreamResponse:
        endpoint = request.match_info.route.name
        if endpoint is None:  # not a route of either API: aiohttp's own 404
            return await handler(request)
        self.faults.count(endpoint)
        provider = endpoint.split(".")[0]
        fault = self.faults.take(provider)
        if fault is not None:
            api = self.abuseipdb if provider == "abuseipdb" else self.virustotal
            return api.fault(request, fault)
        return await handler(request)

    # -- seeding -----------------------------------------------------------------

    def report_ip(
        self,
        ip: str,
        confidence: int,
        reports: int,
        *,
        isp: str | None = None,
        usage_type: str | None = None,
        country: str | None = None,
        domain: str | None = None,
        distinct_users: int | None = None,
        whitelisted: bool = False,
        last_reported_at: str | None = "2026-12-01T09:30:00+00:00",
    ) -> None:
        """What AbuseIPDB says of `ip`; unknown public addresses have no reports."""
        reported = Reported(
            confidence=confidence,
            reports=reports,
            distinct_users=reports if distinct_users is None else distinct_users,
            isp=isp,
            usage_type=usage_type,
            country=country,
            domain=domain,
            whitelisted=whitelisted,
            last_reported_at=last_reported_at if reports else None,
        )
        self.abuseipdb.report(ip, reported)

    def add_file(
        self,
        file_hash: str,
        *,
        malicious: int = 0,
        suspicious: int = 0,
        undetected: int | None = None,
        name: str | None = None,
        label: str | None = None,
    ) -> str:
        """A file VirusTotal analysed, found by any of its hashes; returns its SHA-256.

        Engines that do not flag it are undetected (files are rarely
        "harmless"); pass ``undetected=0`` with no detections for a file
        that was never analysed.
        """
        stats = analysis_stats(FILE_ENGINES, malicious, suspicious, 0, undetected, "file")
        return self.virustotal.add_file(file_hash, stats, name, label)

    def add_url(
        self,
        url: str,
        *,
        malicious: int = 0,
        suspicious: int = 0,
        title: str | None = None,
        final_url: str | None = None,
    ) -> str:
        """A URL VirusTotal scanned; returns its id (the SHA-256 of the URL)."""
        stats = _web_stats(malicious, suspicious)
        return self.virustotal.add_url(url, stats, title, final_url)

    def add_domain(
        self,
        domain: str,
        *,
        malicious: int = 0,
        suspicious: int = 0,
        registrar: str | None = None,
    ) -> str:
        """A domain VirusTotal knows; returns its id (the domain)."""
        return self.virustotal.add_domain(domain, _web_stats(malicious, suspicious), registrar)

    # -- limits, faults and counts -------------------------------------------------

    def set_abuseipdb_daily_limit(self, limit: int) -> None:
        """Checks per key per UTC day (the free plan's is 1,000); resets today's count."""
        self.abuseipdb.set_daily_limit(limit)

    def fail_next(
        self, provider: str, status: int, times: int = 1, retry_after: int | None = None
    ) -> None:
        """The next `times` requests to `provider` ("abuseipdb" or "virustotal")
        fail with `status`, carrying ``Retry-After`` when given."""
        self.faults.fail_next(provider, status, times, retry_after)

    def set_down(self, provider: str, down: bool = True) -> None:
        """While down, `provider` answers every request with 503."""
        self.faults.set_down(provider, down)

    def request_counts(self) -> dict[str, int]:
        """Requests by endpoint, e.g. ``{"abuseipdb.check": 2}``."""
        return self.faults.counts()

    def reset_counts(self) -> None:
        self.faults.reset_counts()


def _web_stats(malicious: int, suspicious: int) -> dict:
    # URL and domain engines mostly answer "harmless" when they find nothing,
    # and a handful stay "undetected".
    undetected = 25
    harmless = max(URL_ENGINES - malicious - suspicious - undetected, 0)
    return analysis_stats(URL_ENGINES, malicious, suspicious, harmless, undetected, "url")
