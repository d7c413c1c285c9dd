"""The WAF blocklist, through real boto3 against moto's server over HTTP."""

import io
import json

import pytest
from botocore.awsrequest import AWSResponse

from integrations.waf import MAX_ADDRESSES, IpSetRef, WafBlocklist, WafError
from tests.emulators.aws import REGION, MotoServer, offline_session

OTHER_WRITERS_ADDRESS = "198.51.100.7/32"


@pytest.fixture(scope="module")
def moto():
    with MotoServer() as server:
        yield server


def blocklist_for(moto, ip_set, session=None) -> WafBlocklist:
    ref = IpSetRef(ip_set.name, ip_set.id, ip_set.scope)
    session = session or offline_session()
    return WafBlocklist(ref, region=REGION, endpoint_url=moto.url, session=session)


def addresses_in(moto, ip_set) -> list[str]:
    answer = moto.client("wafv2").get_ip_set(Name=ip_set.name, Scope=ip_set.scope, Id=ip_set.id)
    return answer["IPSet"]["Addresses"]


def add_as_another_writer(moto, ip_set, cidr: str) -> None:
    wafv2 = moto.client("wafv2")
    answer = wafv2.get_ip_set(Name=ip_set.name, Scope=ip_set.scope, Id=ip_set.id)
    wafv2.update_ip_set(
        Name=ip_set.name, Scope=ip_set.scope, Id=ip_set.id,
        Addresses=[*answer["IPSet"]["Addresses"], cidr], LockToken=answer["LockToken"],
    )  # fmt: skip


class _Body(io.BytesIO):
    def stream(self, **kwargs):
        yield self.getvalue()


def throttled_response(request, **kwargs) -> AWSResponse:
    body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
    return AWSResponse(request.url, 400, {}, _Body(body.encode()))


def test_blocking_adds_the_address_as_a_host_cidr(moto):
    """A bare IPv4 address is stored as /32."""
    ip_set = moto.create_ip_set()

    assert blocklist_for(moto, ip_set).block("203.0.113.9") is True

    assert addresses_in(moto, ip_set) == ["203.0.113.9/32"]


def test_blocking_twice_changes_nothing(moto):
    """The second block of the same address reports False and leaves one entry."""
    ip_set = moto.create_ip_set()
    blocklist = blocklist_for(moto, ip_set)

    blocklist.block("203.0.113.9")
    assert blocklist.block("203.0.113.9") is False

    assert addresses_in(moto, ip_set) == ["203.0.113.9/32"]


def test_unblocking_removes_only_that_address(moto):
    """Unblock removes the address and keeps every other entry as it was."""
    ip_set = moto.create_ip_set(addresses=["192.0.2.0/24", "203.0.113.9/32"])
    blocklist = blocklist_for(moto, ip_set)

    assert blocklist.unblock("203.0.113.9") is True
    assert blocklist.unblock("203.0.113.9") is False

    assert addresses_in(moto, ip_set) == ["192.0.2.0/24"]


def test_ipv6_addresses_are_stored_as_128(moto):
    """An IPv6 set takes an IPv6 address as /128 and finds it however it is spelled."""
    ip_set = moto.create_ip_set(version="IPV6")
    blocklist = blocklist_for(moto, ip_set)

    assert blocklist.block("2001:DB8:0:0::7") is True

    assert blocklist.blocked() == {"2001:db8::7/128"}
    assert blocklist.unblock("2001:db8::7") is True
    assert blocklist.blocked() == set()


def test_the_description_survives_an_update(moto):
    """UpdateIPSet replaces every field, so the set's description is sent back."""
    ip_set = moto.create_ip_set()

    blocklist_for(moto, ip_set).block("203.0.113.9")

    answer = moto.client("wafv2").get_ip_set(Name=ip_set.name, Scope=ip_set.scope, Id=ip_set.id)
    assert answer["IPSet"]["Description"] == "made by a Warden test"


def test_an_address_of_the_other_version_is_refused(moto):
    """An IPv4 set refuses an IPv6 address and names the set's version."""
    ip_set = moto.create_ip_set(version="IPV4")

    with pytest.raises(WafError, match="holds IPV4 addresses and 2001:db8::7/128 is IPV6"):
        blocklist_for(moto, ip_set).block("2001:db8::7")

    assert addresses_in(moto, ip_set) == []


@pytest.mark.parametrize("address", ["203.0.113.300", "not-an-ip", "192.0.2.0/24", ""])
def test_something_that_is_not_an_address_is_refused(moto, address):
    """Only single addresses are accepted, with an example of one in the error."""
    ip_set = moto.create_ip_set()

    with pytest.raises(WafError, match="is not an IP address; give one such as 203.0.113.7"):
        blocklist_for(moto, ip_set).block(address)


def test_a_change_made_between_read_and_write_is_kept(moto):
    """Another writer's change makes WAF refuse our lock token; we re-read and keep theirs."""
    ip_set = moto.create_ip_set()
    session = offline_session()
    updates = []

    def another_writer_first(**kwargs):
        updates.append(kwargs["params"]["LockToken"])
        if len(updates) == 1:
            add_as_another_writer(moto, ip_set, OTHER_WRITERS_ADDRESS)

    session.events.register("before-parameter-build.wafv2.UpdateIPSet", another_writer_first)

    assert blocklist_for(moto, ip_set, session).block("203.0.113.9") is True

    assert len(updates) == 2 and updates[0] != updates[1]
    assert set(addresses_in(moto, ip_set)) == {OTHER_WRITERS_ADDRESS, "203.0.113.9/32"}


def test_a_set_that_keeps_changing_gives_up_with_a_clear_error(moto):
    """When every write loses the race, the retries end in one WafError line."""
    ip_set = moto.create_ip_set()
    session = offline_session()
    others = iter(f"198.51.100.{n}/32" for n in range(1, 50))

    def another_writer_always(**kwargs):
        add_as_another_writer(moto, ip_set, next(others))

    session.events.register("before-parameter-build.wafv2.UpdateIPSet", another_writer_always)

    with pytest.raises(WafError, match="kept changing under us") as refused:
        blocklist_for(moto, ip_set, session).block("203.0.113.9")

    assert "\n" not in str(refused.value)
    assert "203.0.113.9/32" not in addresses_in(moto, ip_set)


def test_throttling_is_retried_by_botocore(moto):
    """WAF's "Rate exceeded" on a write is retried, and the write lands."""
    ip_set = moto.create_ip_set()
    session = offline_session()
    answered = []

    def throttle_once(request, **kwargs):
        answered.append(request.url)
        return throttled_response(request) if len(answered) == 1 else None

    session.events.register("before-send.wafv2.UpdateIPSet", throttle_once)

    assert blocklist_for(moto, ip_set, session).block("203.0.113.9") is True

    assert len(answered) == 2
    assert addresses_in(moto, ip_set) == ["203.0.113.9/32"]


def test_a_full_set_is_refused_before_writing(moto):
    """At WAF's 10,000-address limit a new address is refused with the fix."""
    full = [f"10.{n // 256 % 256}.{n % 256}.1/32" for n in range(MAX_ADDRESSES)]
    ip_set = moto.create_ip_set(addresses=full)

    with pytest.raises(WafError, match="is full: it holds 10,000 addresses"):
        blocklist_for(moto, ip_set).block("203.0.113.9")


def test_a_set_that_does_not_exist_is_reported(moto):
    """A wrong id is one WafError line saying what to check."""
    ip_set = moto.create_ip_set()
    ref = IpSetRef(ip_set.name, "0" * 36, ip_set.scope)
    blocklist = WafBlocklist(ref, region=REGION, endpoint_url=moto.url, session=offline_session())

    with pytest.raises(WafError, match="WAF has no IP set .* check the name, id, scope"):
        blocklist.block("203.0.113.9")


def test_a_cloudfront_set_outside_us_east_1_is_refused_up_front():
    """CloudFront IP sets exist only in us-east-1; any other region is a setup error."""
    ref = IpSetRef("edge", "abc", "CLOUDFRONT")

    with pytest.raises(WafError, match="CLOUDFRONT IP sets live in us-east-1, not eu-west-1"):
        WafBlocklist(ref, region="eu-west-1", session=offline_session())
