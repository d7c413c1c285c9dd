"""Online threat intel: AbuseIPDB (API v2) for addresses, VirusTotal (API v3) for
file hashes, URLs and domains, behind one `Provider` interface.

Each answers one indicator with a `Verdict`: malicious, not, or no opinion,
one line for a person, and the provider's web page for it. Answers are
worth keeping (`workflows.enrichment.CachedProvider` does) because quotas are
small: AbuseIPDB's free plan allows 1,000 checks a day, VirusTotal's public
API 4 lookups a minute and 500 a day.

Retried, three attempts in all: 429 and 5xx (waiting as long as
`Retry-After` asks, when it asks), timeouts and dropped connections. A
`Retry-After` longer than a minute means a daily quota is spent; waiting
hours would hold a worker for nothing, so the lookup fails at once. A
refused key or any other answer that is neither a verdict nor temporary
raises `ProviderUnavailable` at once. API keys travel in headers only, never
in the URL, so they stay out of request logs.

Known shortcoming: VirusTotal sends no `Retry-After` with its 429, and its
per-minute quota outlasts the short backoff here; such a lookup fails and
the next one (not cached) tries again.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import logging
import threading
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import requests

from integrations.http_retry import RetryPolicy, TemporaryAnswer, is_temporary_status, json_body

log = logging.getLogger(__name__)

INDICATOR_KINDS = ("ipv4", "ipv6", "domain", "url", "md5", "sha1", "sha256", "email")
HASH_KINDS = frozenset({"md5", "sha1", "sha256"})

ATTEMPTS = 3
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 8.0
# Longer than this, a Retry-After is a daily quota resetting at midnight.
MAX_RETRY_AFTER_SECONDS = 60.0

# AbuseIPDB counts reports from this many days back (it accepts 1 to 365).
MAX_AGE_IN_DAYS = 90
# The confidence score (0-100) is AbuseIPDB's own rating of how abusive an
# address is, weighted by how many distinct users reported it and how
# recently. At 50 and above it leans abusive; below, an address with a few
# stray reports is not called malicious. The summary shows the score either
# way, so an analyst still sees a 30.
MALICIOUS_CONFIDENCE = 50
# One engine alone is too often a false positive on VirusTotal (a generic
# heuristic, a packer, "potentially unwanted"); two vendors agreeing is the
# usual floor in triage. A single detection still shows in the summary.
MALICIOUS_ENGINES = 2

# The engine results in last_analysis_stats that are a judgement.
JUDGEMENTS = ("malicious", "suspicious", "undetected", "harmless")

ABUSEIPDB_WEB = "https://www.abuseipdb.com/check/"
VIRUSTOTAL_WEB = "https://www.virustotal.com/gui/"


@dataclass(frozen=True)
class Verdict:
    """One provider's answer about one indicator."""

    provider: str
    indicator: str
    malicious: bool | None  # None: no opinion, or not known to the provider
    summary: str
    link: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Verdict:
        return cls(d["provider"], d["indicator"], d.get("malicious"), d["summary"], d.get("link"))


class ProviderUnavailable(Exception):
    """No verdict: retries spent, key refused, quota spent. One line naming the provider."""

    def __init__(self, provider: str, reason: str) -> None:
        super().__init__(f"{provider} {reason}")
        self.provider = provider


class Provider(Protocol):
    """What answers indicators of `kinds`; `lookup` raises ProviderUnavailable."""

    name: str
    kinds: frozenset[str]

    def lookup(self, kind: str, value: str) -> Verdict: ...


# -- retries -----------------------------------------------------------------


RETRY = RetryPolicy(attempts=ATTEMPTS, first_backoff=FIRST_BACKOFF_SECONDS,
                    max_backoff=MAX_BACKOFF_SECONDS, max_retry_after=MAX_RETRY_AFTER_SECONDS,
                    give_up_on_longer_wait=True)


# -- the HTTP side both providers share -------------------------------------------


class _JsonApi:
    name = ""
    kinds: frozenset[str] = frozenset()

    def __init__(
        self, base_url: str, headers: dict[str, str], stop: threading.Event | None, timeout: float
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._session = requests.Session()
        self._session.headers.update(headers)
        self._stop = stop or threading.Event()
        self._timeout = timeout

    def close(self) -> None:
        self._session.close()

    def _check_kind(self, kind: str) -> None:
        if kind not in self.kinds:
            known = ", ".join(sorted(self.kinds))
            raise ValueError(f"{self.name} looks up {known}; not {kind!r}")

    def _get(self, path: str, params: dict[str, Any] | None = None) -> requests.Response:
        """The provider's final answer (2xx or 4xx) to GET `path`."""
        try:
            for attempt in RETRY.retrying(self._stop, "intel.retry", provider=self.name):
                if attempt.retry_state.attempt_number > 1 and self._stop.is_set():
                    raise ProviderUnavailable(self.name, "lookup stopped: Warden is shutting down")
                with attempt:
                    return self._get_once(path, params)
        except TemporaryAnswer as error:
            raise ProviderUnavailable(self.name, self._why_unavailable(error)) from error
        except requests.RequestException as error:
            reason = f"could not be reached ({type(error).__name__}); is the network up?"
            raise ProviderUnavailable(self.name, reason) from error
        raise AssertionError("unreachable: tenacity reraises")

    def _get_once(self, path: str, params: dict[str, Any] | None) -> requests.Response:
        response = self._session.get(self._base_url + path, params=params, timeout=self._timeout)
        if is_temporary_status(response.status_code):
            raise TemporaryAnswer(response)
        return response

    def _why_unavailable(self, error: TemporaryAnswer) -> str:
        detail = self._error_detail(error.response)
        if error.status != 429:
            return f"is unavailable (HTTP {error.status}: {detail}); try again later"
        if error.retry_after is not None and error.retry_after > MAX_RETRY_AFTER_SECONDS:
            limit = error.response.headers.get("X-RateLimit-Limit")
            spent = f"daily quota of {limit} requests" if limit else "quota"
            return f"{spent} is spent; it resets in {_duration(error.retry_after)}"
        return f"quota is exceeded (HTTP 429: {detail}); try again later"

    def _refused(self, response: requests.Response) -> ProviderUnavailable:
        detail = self._error_detail(response)
        if response.status_code in (401, 403):
            reason = f"refused the API key (HTTP {response.status_code}: {detail}); check the key"
        else:
            reason = f"answered HTTP {response.status_code}: {detail}"
        return ProviderUnavailable(self.name, reason)

    def _data(self, response: requests.Response) -> dict:
        try:
            data = response.json()["data"]
        except (ValueError, KeyError, TypeError):
            data = None
        if not isinstance(data, dict):
            raise ProviderUnavailable(self.name, "answered without the expected JSON data")
        return data

    def _error_detail(self, response: requests.Response) -> str:
        raise NotImplementedError


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


# -- AbuseIPDB ------------------------------------------------------------------


class AbuseIPDB(_JsonApi):
    """IP address reputation from AbuseIPDB's `check` endpoint."""

    name = "AbuseIPDB"
    kinds = frozenset({"ipv4", "ipv6"})

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://api.abuseipdb.com/api/v2",
        *,
        stop: threading.Event | None = None,
        timeout: float = 10.0,
    ) -> None:
        # Without Accept: application/json, errors come back as an HTML page.
        headers = {"Key": api_key, "Accept": "application/json"}
        super().__init__(base_url, headers, stop, timeout)

    def lookup(self, kind: str, value: str) -> Verdict:
        self._check_kind(kind)
        params = {"ipAddress": value, "maxAgeInDays": MAX_AGE_IN_DAYS}
        response = self._get("/check", params)
        if response.status_code == 200:
            return self._verdict(value, self._data(response))
        if response.status_code == 422:  # AbuseIPDB's answer to an address it cannot check
            summary = f"AbuseIPDB cannot check it: {self._error_detail(response)}"
            return Verdict(self.name, value, None, summary, None)
        raise self._refused(response)

    def _verdict(self, value: str, data: dict) -> Verdict:
        link = ABUSEIPDB_WEB + value
        if data.get("isPublic") is False:
            summary = "a private or reserved address; AbuseIPDB keeps no reports for it"
            return Verdict(self.name, value, None, summary, link)
        score = int(data.get("abuseConfidenceScore") or 0)
        malicious = score >= MALICIOUS_CONFIDENCE and not data.get("isWhitelisted")
        return Verdict(self.name, value, malicious, _abuse_summary(data, score), link)

    def _error_detail(self, response: requests.Response) -> str:
        errors = json_body(response).get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("detail") or response.reason)
        return response.reason or "no details"


def _abuse_summary(data: dict, score: int) -> str:
    reports = int(data.get("totalReports") or 0)
    if reports:
        counted = f"{reports} report{'s' if reports != 1 else ''} in {MAX_AGE_IN_DAYS} days"
    else:
        counted = f"no reports in {MAX_AGE_IN_DAYS} days"
    parts = [f"abuse confidence {score}%", counted]
    if data.get("isWhitelisted"):
        parts.insert(0, "whitelisted by AbuseIPDB")
    if data.get("isp"):
        parts.append(f"ISP {data['isp']}")
    parts += [str(data[key]) for key in ("usageType", "countryCode") if data.get(key)]
    return ", ".join(parts)


# -- VirusTotal -----------------------------------------------------------------


class VirusTotal(_JsonApi):
    """Reputation of files (by hash), URLs and domains from VirusTotal's API v3."""

    name = "VirusTotal"
    kinds = frozenset({"md5", "sha1", "sha256", "url", "domain"})

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://www.virustotal.com/api/v3",
        *,
        stop: threading.Event | None = None,
        timeout: float = 10.0,
    ) -> None:
        headers = {"x-apikey": api_key, "Accept": "application/json"}
        super().__init__(base_url, headers, stop, timeout)

    def lookup(self, kind: str, value: str) -> Verdict:
        self._check_kind(kind)
        response = self._get(_object_path(kind, value))
        if response.status_code == 200:
            return self._verdict(kind, value, self._data(response))
        if _error_code(response) == "NotFoundError":  # never submitted: an answer, not an error
            link = _web_link(kind, value, None)
            return Verdict(self.name, value, None, "not known to VirusTotal", link)
        if response.status_code == 400:  # InvalidArgumentError and friends
            summary = f"VirusTotal cannot look it up: {self._error_detail(response)}"
            return Verdict(self.name, value, None, summary, None)
        raise self._refused(response)

    def _verdict(self, kind: str, value: str, data: dict) -> Verdict:
        attributes = data.get("attributes") or {}
        stats = attributes.get("last_analysis_stats") or {}
        flagged, suspicious = (int(stats.get(key) or 0) for key in ("malicious", "suspicious"))
        # Timeouts and unsupported file types gave no judgement; they do not count.
        judged = sum(int(stats.get(key) or 0) for key in JUDGEMENTS)
        link = _web_link(kind, value, data.get("id"))
        if judged == 0:
            return Verdict(self.name, value, None, "known to VirusTotal, not analysed yet", link)
        parts = [f"{flagged}/{judged} security vendors flag it malicious"]
        if suspicious:
            parts.append(f"{suspicious} suspicious")
        parts += _object_details(kind, value, attributes)
        return Verdict(self.name, value, flagged >= MALICIOUS_ENGINES, ", ".join(parts), link)

    def _error_detail(self, response: requests.Response) -> str:
        code = _error_code(response)
        if code is None:
            return response.reason or "no details"
        return f"{code}: {json_body(response)['error'].get('message')}"


def _error_code(response: requests.Response) -> str | None:
    """VirusTotal's error code, such as NotFoundError; None when the body has none."""
    error = json_body(response).get("error")
    return str(error.get("code")) if isinstance(error, dict) else None


def url_id(url: str) -> str:
    """VirusTotal's identifier of a URL: URL-safe base64 without the padding."""
    return base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def _object_path(kind: str, value: str) -> str:
    if kind in HASH_KINDS:
        return f"/files/{value.lower()}"
    if kind == "url":
        return f"/urls/{url_id(value)}"
    return f"/domains/{value.lower().rstrip('.')}"


def _web_link(kind: str, value: str, object_id: str | None) -> str | None:
    if kind in HASH_KINDS:
        return f"{VIRUSTOTAL_WEB}file/{value.lower()}"
    if kind == "domain":
        return f"{VIRUSTOTAL_WEB}domain/{value.lower().rstrip('.')}"
    # A URL's page is named by the SHA-256 id VirusTotal gives it, known
    # only once it has seen the URL.
    return f"{VIRUSTOTAL_WEB}url/{object_id}" if object_id else None


def _object_details(kind: str, value: str, attributes: dict) -> list[str]:
    if kind in HASH_KINDS:
        label = (attributes.get("popular_threat_classification") or {}).get(
            "suggested_threat_label"
        )
        return [str(text) for text in (label, attributes.get("meaningful_name")) if text]
    if kind == "url":
        final = attributes.get("last_final_url")
        return [f"redirects to {final}"] if final and final != value else []
    registrar = attributes.get("registrar")
    return [f"registrar {registrar}"] if registrar else []


# -- the cache ------------------------------------------------------------------


def cache_key(kind: str, value: str) -> str:
    """One key per indicator however it was written (case, IPv6 zeros)."""
    if kind in HASH_KINDS or kind in ("domain", "email"):
        value = value.lower().rstrip(".")
    elif kind in ("ipv4", "ipv6"):
        with contextlib.suppress(ValueError):  # not an address: keep it as written
            value = ipaddress.ip_address(value).compressed
    return f"{kind}:{value}"
