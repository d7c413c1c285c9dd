"""AbuseIPDB's API v2 ``check`` endpoint, as documented at docs.abuseipdb.com.

``GET /api/v2/check?ipAddress=…&maxAgeInDays=…`` with the key in the ``Key``
header (or, as the docs still allow, the ``key`` query parameter). Errors
follow the JSON:API shape, ``{"errors": [{"detail", "status", "source"?}]}``,
and only when the client sent ``Accept: application/json``; without it the
real service answers errors with an HTML page, and so does this one.

Each key has a daily budget (1,000 checks on the free plan). Every
authenticated answer carries ``X-RateLimit-Limit`` and
``X-RateLimit-Remaining``; past the budget the answer is 429 with
``Retry-After`` (seconds to midnight UTC) and ``X-RateLimit-Reset`` (epoch).
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiohttp import web

from .faults import Fault

PREFIX = "/abuseipdb/api/v2"
FREE_DAILY_LIMIT = 1000
DEFAULT_MAX_AGE_IN_DAYS = 30

AUTH_FAILED = (
    "Authentication failed. Your API key is either missing, incorrect, or revoked."
    " Note: The APIv2 key differs from the APIv1 key."
)
IP_REQUIRED = "The ip address field is required."
IP_INVALID = (
    "The ip address must be a valid IPv4 or IPv6 address (e.g. 8.8.8.8 or 2001:4860:4860::8888)."
)
MAX_AGE_NOT_INTEGER = "The max age in days must be an integer."
MAX_AGE_RANGE = "The max age in days must be between 1 and 365."
DAILY_LIMIT = (
    "Daily rate limit of {limit} requests exceeded for this endpoint."
    " See headers for additional details."
)


@dataclass
class Reported:
    """What AbuseIPDB knows about one address."""

    confidence: int = 0
    reports: int = 0
    distinct_users: int = 0
    isp: str | None = None
    usage_type: str | None = None
    country: str | None = None
    domain: str | None = None
    whitelisted: bool = False
    hostnames: list[str] = field(default_factory=list)
    last_reported_at: str | None = None


class AbuseIpdbApi:
    def __init__(self, key: str, clock: Callable[[], float]) -> None:
        self.key = key
        self.clock = clock
        self.daily_limit = FREE_DAILY_LIMIT
        self._reported: dict[str, Reported] = {}
        self._used: dict[str, int] = {}  # UTC day -> checks
        self._lock = threading.Lock()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(PREFIX + "/check", self.check, name="abuseipdb.check")

    def report(self, ip: str, reported: Reported) -> None:
        with self._lock:
            self._reported[ipaddress.ip_address(ip).compressed] = reported

    def set_daily_limit(self, limit: int) -> None:
        with self._lock:
            self.daily_limit = limit
            self._used.clear()

    # -- the endpoint ----------------------------------------------------------

    async def check(self, request: web.Request) -> web.Response:
        if request.headers.get("Key", request.query.get("key")) != self.key:
            return error(request, 401, AUTH_FAILED)
        spent, headers = self._spend()
        if spent:
            return error(request, 429, DAILY_LIMIT.format(limit=self.daily_limit), headers=headers)
        problem = _invalid(request.query)
        if problem is not None:
            detail, parameter = problem
            return error(request, 422, detail, parameter, headers)
        address = ipaddress.ip_address(request.query["ipAddress"].strip())
        return web.json_response({"data": self._data(address)}, headers=headers)

    def fault(self, request: web.Request, fault: Fault) -> web.Response:
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        if fault.status >= 500:  # an outage is the CDN's HTML page, not the API's JSON
            return _html_response(fault.status, headers)
        detail = "Too many requests." if fault.status == 429 else "Injected failure."
        return error(request, fault.status, detail, headers=headers)

    def _spend(self) -> tuple[bool, dict[str, str]]:
        """Count one check against today's budget; True when it is spent."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        day = now.date().isoformat()
        with self._lock:
            limit = self.daily_limit
            used = self._used.get(day, 0)
            allowed = used < limit
            if allowed:
                used = self._used[day] = used + 1
        headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(limit - used)}
        if allowed:
            return False, headers
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
        headers["Retry-After"] = str(int((midnight - now).total_seconds()))
        headers["X-RateLimit-Reset"] = str(int(midnight.timestamp()))
        return True, headers

    def _data(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> dict:
        ip = address.compressed
        with self._lock:
            known = self._reported.get(ip) or Reported()
        public = address.is_global
        return {
            "ipAddress": ip,
            "isPublic": public,
            "ipVersion": address.version,
            "isWhitelisted": known.whitelisted if public else None,
            "abuseConfidenceScore": known.confidence if public else 0,
            "countryCode": known.country,
            "usageType": known.usage_type if public else "Reserved",
            "isp": known.isp,
            "domain": known.domain,
            "hostnames": list(known.hostnames),
            "isTor": False,
            "totalReports": known.reports if public else 0,
            "numDistinctUsers": known.distinct_users if public else 0,
            "lastReportedAt": known.last_reported_at if public else None,
        }


def error(
    request: web.Request,
    status: int,
    detail: str,
    parameter: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    if "application/json" not in request.headers.get("Accept", ""):
        return _html_response(status, headers)
    body: dict = {"detail": detail, "status": status}
    if parameter:
        body["source"] = {"parameter": parameter}
    return web.json_response({"errors": [body]}, status=status, headers=headers)


def _invalid(query) -> tuple[str, str] | None:
    """The first validation error of a check request, as (detail, parameter)."""
    ip = query.get("ipAddress", "").strip()
    if not ip:
        return IP_REQUIRED, "ipAddress"
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        return IP_INVALID, "ipAddress"
    max_age = query.get("maxAgeInDays", str(DEFAULT_MAX_AGE_IN_DAYS))
    if not max_age.lstrip("-").isdigit():
        return MAX_AGE_NOT_INTEGER, "maxAgeInDays"
    if not 1 <= int(max_age) <= 365:
        return MAX_AGE_RANGE, "maxAgeInDays"
    return None


def _html_response(status: int, headers: dict[str, str] | None) -> web.Response:
    page = f"<!DOCTYPE html><html><head><title>{status}</title></head><body></body></html>"
    return web.Response(status=status, text=page, content_type="text/html", headers=headers)
