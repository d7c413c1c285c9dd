"""The AbuseIPDB and VirusTotal clients and the cache in front of them, against the emulator."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from integrations import intel
from integrations.intel import (
    AbuseIPDB,
    ProviderUnavailable,
    Verdict,
    VirusTotal,
)
from state import Store
from tests.emulators.intel import IntelEmulator
from workflows.enrichment import CachedProvider

NOON = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
BAD_IP = "45.9.20.1"
EICAR_MD5 = "44d88612fea8a8f36de82e1278abb02f"


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries without Retry-After back off in milliseconds, not seconds."""
    quick = dataclasses.replace(intel.RETRY, first_backoff=0.01, max_backoff=0.02)
    monkeypatch.setattr(intel, "RETRY", quick)


@pytest.fixture
def emu() -> Iterator[IntelEmulator]:
    with IntelEmulator(clock=NOON.timestamp) as emulator:
        yield emulator


def abuseipdb(emu: IntelEmulator, **options) -> AbuseIPDB:
    return AbuseIPDB(emu.abuseipdb_key, emu.abuseipdb_url, **options)


def virustotal(emu: IntelEmulator, **options) -> VirusTotal:
    return VirusTotal(emu.virustotal_key, emu.virustotal_url, **options)


# -- AbuseIPDB verdicts -------------------------------------------------------------


def test_a_much_reported_address_is_malicious(emu):
    """A high confidence score is a malicious verdict with the facts in one line."""
    emu.report_ip(BAD_IP, 87, 12, isp="Example Net", usage_type="Data Center/Web Hosting/Transit",
                  country="NL")  # fmt: skip

    verdict = abuseipdb(emu).lookup("ipv4", BAD_IP)

    assert verdict == Verdict(
        "AbuseIPDB",
        BAD_IP,
        True,
        "abuse confidence 87%, 12 reports in 90 days, ISP Example Net,"
        " Data Center/Web Hosting/Transit, NL",
        f"https://www.abuseipdb.com/check/{BAD_IP}",
    )


def test_the_lookup_asks_for_90_days_of_reports_with_the_documented_headers(emu):
    """maxAgeInDays=90 is sent, so the emulator validates it (1-365) and answers."""
    emu.report_ip(BAD_IP, 20, 1)

    verdict = abuseipdb(emu).lookup("ipv4", BAD_IP)

    assert verdict.malicious is False
    assert verdict.summary.startswith("abuse confidence 20%, 1 report in 90 days")


def test_a_whitelisted_address_is_not_malicious(emu):
    """Whatever the reports say, an address AbuseIPDB whitelisted is not malicious."""
    emu.report_ip(BAD_IP, 90, 40, whitelisted=True)

    verdict = abuseipdb(emu).lookup("ipv4", BAD_IP)

    assert verdict.malicious is False
    assert verdict.summary.startswith("whitelisted by AbuseIPDB")


def test_a_private_address_gets_no_opinion(emu):
    """AbuseIPDB keeps nothing on private addresses: no opinion, said plainly."""
    verdict = abuseipdb(emu).lookup("ipv4", "10.1.2.3")

    assert verdict.malicious is None
    assert "private or reserved" in verdict.summary


def test_an_address_abuseipdb_refuses_is_no_opinion_not_an_error(emu):
    """A 422 for the address itself is AbuseIPDB's answer, shown to the analyst."""
    verdict = abuseipdb(emu).lookup("ipv6", "not:an:address::x")

    assert verdict.malicious is None
    assert verdict.summary.startswith("AbuseIPDB cannot check it: The ip address must be")


def test_kinds_a_provider_does_not_know_are_refused_before_any_request(emu):
    """Asking AbuseIPDB about a domain is a bug in the caller, not a lookup."""
    with pytest.raises(ValueError, match="AbuseIPDB looks up ipv4, ipv6; not 'domain'"):
        abuseipdb(emu).lookup("domain", "evil.example")

    assert emu.request_counts() == {}


# -- VirusTotal verdicts ------------------------------------------------------------


def test_a_file_many_vendors_flag_is_malicious(emu):
    """A hash in any case finds the file; the summary names the threat and the file."""
    emu.add_file(EICAR_MD5, malicious=60, label="virus.eicar/test", name="eicar.com")

    verdict = virustotal(emu).lookup("md5", EICAR_MD5.upper())

    assert verdict.malicious is True
    assert verdict.summary == (
        "60/72 security vendors flag it malicious, virus.eicar/test, eicar.com"
    )
    assert verdict.link == f"https://www.virustotal.com/gui/file/{EICAR_MD5}"


def test_a_single_detection_is_shown_but_not_called_malicious(emu):
    """One engine alone is too often a false positive; the summary still tells."""
    sha256 = emu.add_file("a" * 64, malicious=1, suspicious=2)

    verdict = virustotal(emu).lookup("sha256", sha256)

    assert verdict.malicious is False
    assert verdict.summary == "1/72 security vendors flag it malicious, 2 suspicious"


def test_a_hash_virustotal_never_saw_is_not_known_rather_than_an_error(emu):
    """VirusTotal's 404 NotFoundError is an answer: no opinion."""
    verdict = virustotal(emu).lookup("sha1", "b" * 40)

    assert verdict.malicious is None
    assert verdict.summary == "not known to VirusTotal"


def test_a_file_never_analysed_gets_no_opinion(emu):
    """Zero engines gave a judgement: nothing to call malicious or clean."""
    emu.add_file("c" * 64, undetected=0)

    verdict = virustotal(emu).lookup("sha256", "c" * 64)

    assert verdict.malicious is None
    assert verdict.summary == "known to VirusTotal, not analysed yet"


def test_a_url_is_looked_up_by_its_base64_id_and_linked_by_its_sha256(emu):
    """The URL goes out as its base64 id; the web page is named by VirusTotal's id."""
    object_id = emu.add_url("http://evil.example/login", malicious=7,
                            final_url="http://evil.example/steal")  # fmt: skip

    verdict = virustotal(emu).lookup("url", "http://evil.example/login")

    assert verdict.malicious is True
    assert verdict.summary == (
        "7/94 security vendors flag it malicious, redirects to http://evil.example/steal"
    )
    assert verdict.link == f"https://www.virustotal.com/gui/url/{object_id}"


def test_a_domain_verdict_names_the_registrar(emu):
    """Domains are looked up lower-cased; the summary names the registrar."""
    emu.add_domain("evil.example", malicious=4, registrar="Example Registrar")

    verdict = virustotal(emu).lookup("domain", "Evil.Example")

    assert verdict.malicious is True
    assert verdict.summary.endswith("registrar Example Registrar")
    assert verdict.link == "https://www.virustotal.com/gui/domain/evil.example"


def test_url_ids_follow_the_documented_encoding():
    """URL-safe base64 of the URL, without the = padding (VirusTotal's own example)."""
    encoded = intel.url_id("http://www.somedomain.com/this/is/my/url")

    assert encoded == "aHR0cDovL3d3dy5zb21lZG9tYWluLmNvbS90aGlzL2lzL215L3VybA"


# -- retries and refusals -------------------------------------------------------------


def test_a_short_rate_limit_is_waited_out(emu):
    """429 with a short Retry-After is retried; the third attempt gets the answer."""
    emu.report_ip(BAD_IP, 87, 12)
    emu.fail_next("abuseipdb", 429, times=2, retry_after=0)

    verdict = abuseipdb(emu).lookup("ipv4", BAD_IP)

    assert verdict.malicious is True
    assert emu.request_counts() == {"abuseipdb.check": 3}


def test_server_errors_are_retried(emu):
    """503s without Retry-After are retried after a short backoff."""
    emu.fail_next("virustotal", 503, times=2)

    verdict = virustotal(emu).lookup("md5", EICAR_MD5)

    assert verdict.summary == "not known to VirusTotal"
    assert emu.request_counts() == {"virustotal.files": 3}


def test_a_provider_that_stays_down_is_unavailable_after_three_attempts(emu):
    """Three 503s in a row: ProviderUnavailable, naming the provider and the status."""
    emu.set_down("abuseipdb")

    with pytest.raises(ProviderUnavailable) as down:
        abuseipdb(emu).lookup("ipv4", BAD_IP)

    assert str(down.value).startswith("AbuseIPDB is unavailable (HTTP 503")
    assert emu.request_counts() == {"abuseipdb.check": 3}


def test_virustotal_quota_without_retry_after_fails_after_its_retries(emu):
    """VirusTotal's 429 carries no Retry-After: three tries, then unavailable."""
    emu.fail_next("virustotal", 429, times=3)

    with pytest.raises(ProviderUnavailable, match="VirusTotal quota is exceeded .*QuotaExceeded"):
        virustotal(emu).lookup("domain", "evil.example")

    assert emu.request_counts() == {"virustotal.domains": 3}


def test_a_spent_daily_quota_fails_at_once(emu):
    """A Retry-After of hours is a daily quota: no waiting, one request, a clear line."""
    emu.set_abuseipdb_daily_limit(2)
    client = abuseipdb(emu)
    client.lookup("ipv4", BAD_IP)
    client.lookup("ipv6", "2a01:4f8::1")

    started = time.monotonic()
    with pytest.raises(ProviderUnavailable) as spent:
        client.lookup("ipv4", BAD_IP)

    assert time.monotonic() - started < 1
    assert str(spent.value) == (
        "AbuseIPDB daily quota of 2 requests is spent; it resets in 12 h 0 min"
    )
    assert emu.request_counts() == {"abuseipdb.check": 3}


@pytest.mark.parametrize("provider", ["abuseipdb", "virustotal"])
def test_a_refused_key_fails_at_once(emu, provider):
    """A 401 is not retried; the error says to check the key."""
    client = (
        AbuseIPDB("wrong", emu.abuseipdb_url)
        if provider == "abuseipdb"
        else VirusTotal("wrong", emu.virustotal_url)
    )
    kind, value = ("ipv4", BAD_IP) if provider == "abuseipdb" else ("md5", EICAR_MD5)

    with pytest.raises(ProviderUnavailable, match=r"refused the API key \(HTTP 401"):
        client.lookup(kind, value)

    assert sum(emu.request_counts().values()) == 1


def test_an_unreachable_provider_is_unavailable():
    """Connection refused on every attempt ends in ProviderUnavailable."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    client = VirusTotal("key", f"http://127.0.0.1:{port}/api/v3", timeout=1)

    with pytest.raises(ProviderUnavailable, match="VirusTotal could not be reached"):
        client.lookup("domain", "evil.example")


def test_a_404_that_is_not_virustotals_is_not_taken_for_not_known(emu):
    """A wrong base URL answers 404 without NotFoundError: an error, not a verdict."""
    client = VirusTotal(emu.virustotal_key, emu.url + "/elsewhere/api/v3")

    with pytest.raises(ProviderUnavailable, match="VirusTotal answered HTTP 404: Not Found"):
        client.lookup("md5", EICAR_MD5)


def test_a_stop_cuts_a_retry_wait_short(emu):
    """Shutting down does not wait out a 30 s Retry-After."""
    emu.fail_next("abuseipdb", 429, times=3, retry_after=30)
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()

    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="AbuseIPDB lookup stopped"):
        abuseipdb(emu, stop=stop).lookup("ipv4", BAD_IP)

    assert time.monotonic() - started < 5
    assert emu.request_counts() == {"abuseipdb.check": 1}


# -- the cache ------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = NOON

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "w.db")
    yield opened
    opened.close()


def test_a_cached_answer_makes_no_request_within_its_ttl(emu, store):
    """Within the TTL the store answers and the provider is not asked."""
    emu.report_ip(BAD_IP, 87, 12)
    clock = Clock()
    cached = CachedProvider(abuseipdb(emu), store, ttl_seconds=3600, clock=clock)
    first = cached.lookup("ipv4", BAD_IP)
    clock.now += timedelta(minutes=59)

    again = cached.lookup("ipv4", BAD_IP)

    assert again == first
    assert emu.request_counts() == {"abuseipdb.check": 1}


def test_an_expired_answer_is_fetched_again(emu, store):
    """Once the TTL has run out, the provider's current answer replaces the old one."""
    emu.report_ip(BAD_IP, 10, 1)
    clock = Clock()
    cached = CachedProvider(abuseipdb(emu), store, ttl_seconds=3600, clock=clock)
    cached.lookup("ipv4", BAD_IP)
    emu.report_ip(BAD_IP, 95, 30)
    clock.now += timedelta(hours=1)

    fresh = cached.lookup("ipv4", BAD_IP)

    assert fresh.malicious is True
    assert emu.request_counts() == {"abuseipdb.check": 2}


def test_not_known_is_cached_too(emu, store):
    """Asking again about a hash VirusTotal never saw would spend quota on the same answer."""
    cached = CachedProvider(virustotal(emu), store, ttl_seconds=3600, clock=Clock())
    cached.lookup("md5", EICAR_MD5)

    again = cached.lookup("md5", EICAR_MD5.upper())

    assert again.summary == "not known to VirusTotal"
    assert emu.request_counts() == {"virustotal.files": 1}


def test_errors_are_not_cached(emu, store):
    """After an outage the next lookup asks the provider again."""
    emu.add_domain("evil.example", malicious=4)
    cached = CachedProvider(virustotal(emu), store, ttl_seconds=3600, clock=Clock())
    emu.set_down("virustotal")
    with pytest.raises(ProviderUnavailable):
        cached.lookup("domain", "evil.example")
    emu.set_down("virustotal", False)

    verdict = cached.lookup("domain", "evil.example")

    assert verdict.malicious is True
    assert emu.request_counts() == {"virustotal.domains": 4}


def test_the_cached_provider_speaks_for_its_provider(emu, store):
    """A cached provider has the name and kinds of the one it wraps."""
    cached = CachedProvider(virustotal(emu), store, ttl_seconds=60)

    assert (cached.name, cached.kinds) == ("VirusTotal", VirusTotal.kinds)


def test_one_address_written_two_ways_is_one_cache_entry():
    """Case and IPv6 zero compression do not split the cache."""
    assert intel.cache_key("ipv6", "2A01:04F8:0::1") == intel.cache_key("ipv6", "2a01:4f8::1")
    assert intel.cache_key("sha256", "AB" * 32) == "sha256:" + "ab" * 32


def test_a_verdict_survives_a_round_trip_through_a_dict():
    """to_dict and from_dict are how verdicts go in and out of the cache."""
    verdict = Verdict("VirusTotal", "evil.example", None, "not known to VirusTotal", None)

    assert Verdict.from_dict(verdict.to_dict()) == verdict
