"""The intel emulator, spoken to with plain HTTP as AbuseIPDB and VirusTotal document."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests

from integrations.intel import url_id
from tests.emulators.intel import IntelEmulator

NOON = datetime(2026, 12, 3, 12, 0, tzinfo=UTC).timestamp()
BAD_IP = "45.9.20.1"
EICAR_MD5 = "44d88612fea8a8f36de82e1278abb02f"


@pytest.fixture
def emu() -> Iterator[IntelEmulator]:
    with IntelEmulator(clock=lambda: NOON) as emulator:
        yield emulator


def check(emu: IntelEmulator, key: str | None = None, accept: str = "application/json",
          **params: str) -> requests.Response:  # fmt: skip
    headers = {"Key": emu.abuseipdb_key if key is None else key, "Accept": accept}
    return requests.get(f"{emu.abuseipdb_url}/check", params=params, headers=headers, timeout=5)


def vt(emu: IntelEmulator, path: str, key: str | None = None) -> requests.Response:
    headers = {"x-apikey": emu.virustotal_key if key is None else key}
    return requests.get(emu.virustotal_url + path, headers=headers, timeout=5)


# -- AbuseIPDB --------------------------------------------------------------------


def test_a_reported_address_is_checked_with_every_documented_field(emu):
    """`check` answers the fields of AbuseIPDB's documentation, with the rate-limit headers."""
    emu.report_ip(BAD_IP, 87, 12, isp="Example Net", usage_type="Data Center/Web Hosting/Transit",
                  country="NL", distinct_users=5)  # fmt: skip

    answer = check(emu, ipAddress=BAD_IP, maxAgeInDays="90")

    assert answer.status_code == 200
    data = answer.json()["data"]
    assert set(data) >= {
        "ipAddress", "isPublic", "ipVersion", "isWhitelisted", "abuseConfidenceScore",
        "countryCode", "usageType", "isp", "domain", "hostnames", "totalReports",
        "numDistinctUsers", "lastReportedAt",
    }  # fmt: skip
    assert (data["abuseConfidenceScore"], data["totalReports"], data["numDistinctUsers"]) == (
        87, 12, 5
    )  # fmt: skip
    assert (data["isp"], data["countryCode"], data["ipVersion"]) == ("Example Net", "NL", 4)
    assert answer.headers["X-RateLimit-Limit"] == "1000"
    assert answer.headers["X-RateLimit-Remaining"] == "999"


def test_an_address_nobody_reported_has_a_zero_score(emu):
    """A public address without reports: score 0, no reports, never reported."""
    data = check(emu, ipAddress="2a01:4f8::1").json()["data"]

    assert (data["isPublic"], data["ipVersion"]) == (True, 6)
    assert (data["abuseConfidenceScore"], data["totalReports"], data["lastReportedAt"]) == (
        0, 0, None
    )  # fmt: skip


def test_a_private_address_is_not_public(emu):
    """AbuseIPDB keeps no reports for private addresses and says isPublic false."""
    data = check(emu, ipAddress="10.1.2.3").json()["data"]

    assert data["isPublic"] is False
    assert data["abuseConfidenceScore"] == 0


@pytest.mark.parametrize(
    ("params", "detail", "parameter"),
    [
        ({}, "The ip address field is required.", "ipAddress"),
        ({"ipAddress": "evil.example"}, "must be a valid IPv4 or IPv6 address", "ipAddress"),
        ({"ipAddress": BAD_IP, "maxAgeInDays": "400"}, "between 1 and 365", "maxAgeInDays"),
        ({"ipAddress": BAD_IP, "maxAgeInDays": "soon"}, "must be an integer", "maxAgeInDays"),
    ],
)
def test_invalid_parameters_are_422_with_json_api_errors(emu, params, detail, parameter):
    """Validation errors name the parameter, in the {"errors": [...]} shape."""
    answer = check(emu, **params)

    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert detail in error["detail"]
    assert error["status"] == 422
    assert error["source"] == {"parameter": parameter}


def test_a_wrong_key_is_401(emu):
    """A key AbuseIPDB does not know is refused with its authentication message."""
    answer = check(emu, key="not-the-key", ipAddress=BAD_IP)

    assert answer.status_code == 401
    assert answer.json()["errors"][0]["detail"].startswith("Authentication failed.")


def test_errors_are_html_without_accept_json(emu):
    """Like the real service, errors are a web page unless JSON is asked for."""
    answer = check(emu, accept="*/*")

    assert answer.status_code == 422
    assert answer.headers["Content-Type"].startswith("text/html")


def test_the_daily_limit_answers_429_until_midnight_utc(emu):
    """Past the daily budget: 429, Retry-After to midnight UTC and the reset time."""
    emu.set_abuseipdb_daily_limit(2)
    check(emu, ipAddress=BAD_IP)
    last = check(emu, ipAddress=BAD_IP)

    refused = check(emu, ipAddress=BAD_IP)

    assert last.headers["X-RateLimit-Remaining"] == "0"
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == str(12 * 3600)
    assert refused.headers["X-RateLimit-Reset"] == str(int(NOON) + 12 * 3600)
    assert refused.json()["errors"][0]["detail"].startswith("Daily rate limit of 2 requests")


# -- VirusTotal -------------------------------------------------------------------


def test_a_file_is_found_by_any_of_its_hashes(emu):
    """MD5, SHA-1 and SHA-256 all name the same file object, whose id is the SHA-256."""
    sha256 = emu.add_file(EICAR_MD5, malicious=60, label="virus.eicar/test")
    by_md5 = vt(emu, f"/files/{EICAR_MD5}").json()["data"]
    sha1 = by_md5["attributes"]["sha1"]

    by_sha1 = vt(emu, f"/files/{sha1}").json()["data"]
    by_sha256 = vt(emu, f"/files/{sha256}").json()["data"]

    assert by_md5 == by_sha1 == by_sha256
    assert (by_md5["id"], by_md5["type"]) == (sha256, "file")
    assert by_md5["links"]["self"] == f"{emu.virustotal_url}/files/{sha256}"
    stats = by_md5["attributes"]["last_analysis_stats"]
    assert stats["malicious"] == 60
    assert {"suspicious", "undetected", "harmless", "type-unsupported"} <= set(stats)


def test_a_url_is_found_by_its_base64_or_its_sha256_id(emu):
    """VirusTotal names a URL by unpadded URL-safe base64, or by the id it gave it."""
    object_id = emu.add_url("http://evil.example/login", malicious=5)

    by_base64 = vt(emu, f"/urls/{url_id('http://evil.example/login')}")
    by_id = vt(emu, f"/urls/{object_id}")

    assert by_base64.json() == by_id.json()
    assert by_id.json()["data"]["attributes"]["url"] == "http://evil.example/login"


def test_a_domain_is_found_whatever_its_case(emu):
    """Domains are case-insensitive; the id is the lower-cased name."""
    emu.add_domain("evil.example", malicious=3, registrar="Example Registrar")

    data = vt(emu, "/domains/EVIL.example").json()["data"]

    assert (data["id"], data["type"]) == ("evil.example", "domain")
    assert data["attributes"]["last_analysis_stats"]["malicious"] == 3


def test_unknown_objects_are_404_not_found_error(emu):
    """What VirusTotal never saw is 404 with code NotFoundError."""
    answer = vt(emu, "/domains/never-seen.example")

    assert answer.status_code == 404
    assert answer.json()["error"] == {
        "code": "NotFoundError",
        "message": 'Domain "never-seen.example" not found',
    }


@pytest.mark.parametrize(
    ("key", "code"), [("", "AuthenticationRequiredError"), ("0" * 64, "WrongCredentialsError")]
)
def test_a_missing_or_wrong_key_is_401(emu, key, code):
    """No x-apikey and a wrong one get VirusTotal's two different 401 codes."""
    answer = vt(emu, f"/files/{EICAR_MD5}", key=key)

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == code


# -- faults and counts --------------------------------------------------------------


def test_planned_failures_come_first_then_normal_answers(emu):
    """fail_next queues answers per provider; the other provider is untouched."""
    emu.fail_next("virustotal", 429, times=2, retry_after=3)

    first = vt(emu, f"/files/{EICAR_MD5}")
    other = check(emu, ipAddress=BAD_IP)
    second = vt(emu, f"/files/{EICAR_MD5}")
    third = vt(emu, f"/files/{EICAR_MD5}")

    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 404)
    assert first.json()["error"]["code"] == "QuotaExceededError"
    assert first.headers["Retry-After"] == "3"
    assert other.status_code == 200


def test_a_provider_that_is_down_answers_503_until_it_is_back(emu):
    """set_down makes every request 503 until it is undone."""
    emu.set_down("abuseipdb")

    down = check(emu, ipAddress=BAD_IP)
    emu.set_down("abuseipdb", False)
    back = check(emu, ipAddress=BAD_IP)

    assert down.status_code == 503
    assert back.status_code == 200


def test_requests_are_counted_by_endpoint_failures_included(emu):
    """Counts name the endpoint and include requests that failed."""
    emu.set_down("virustotal")
    vt(emu, f"/files/{EICAR_MD5}")
    vt(emu, "/domains/evil.example")
    check(emu, ipAddress=BAD_IP)

    assert emu.request_counts() == {
        "virustotal.files": 1,
        "virustotal.domains": 1,
        "abuseipdb.check": 1,
    }
