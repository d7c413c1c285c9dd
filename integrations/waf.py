"""Blocking IP addresses in an AWS WAFv2 IP set, through boto3.

WAFv2 has no "add one address" call: UpdateIPSet replaces the whole list and
must carry the LockToken of the GetIPSet it was based on. A change is
therefore read -> edit -> write, and when another writer got in between, WAF
answers WAFOptimisticLockException and the change is made again on a fresh
read, so nothing the other writer added is lost.

Two layers of retry, each for what it understands:

* botocore's own "standard" mode retries throttling (WAF answers
  ThrottlingException "Rate exceeded" when writes come too fast), 5xx and
  dropped connections. It knows AWS's throttling codes and keeps a client-side
  retry quota, so an outage does not become a storm of retries.
* tenacity retries only lock conflicts, because those need a new read, not
  the same request sent again. A set `stop` cuts its waits short.

Everything else (a set that does not exist, a parameter WAF refuses, a full
set) is raised at once as a WafError whose text says what to fix.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

log = logging.getLogger(__name__)

# WAF's quota of addresses and ranges in one IP set.
MAX_ADDRESSES = 10_000

LOCK_ATTEMPTS = 5

# Five attempts ride out WAF's write throttling without holding a caller for
# long. WAF answers in well under a second; botocore's 60 s default read
# timeout would leave an analyst's click hanging for minutes across retries.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=15,
)

# The CloudFront scope lives in one region only.
CLOUDFRONT_REGION = "us-east-1"
SCOPES = frozenset({"REGIONAL", "CLOUDFRONT"})


class WafError(Exception):
    """WAF refused a change, or kept failing until the retries ran out."""


@dataclass(frozen=True)
class IpSetRef:
    """Which IP set to edit; WAF needs all three to find it."""

    name: str
    id: str
    scope: str  # "REGIONAL" or "CLOUDFRONT"

    def __str__(self) -> str:
        return f"IP set {self.name!r} ({self.scope}, id {self.id})"


# An edit turns the set's current addresses into the new list, or None when
# the set already says what was asked.
Edit = Callable[[list[str]], list[str] | None]


class WafBlocklist:
    def __init__(
        self,
        ip_set: IpSetRef,
        *,
        region: str,
        endpoint_url: str | None = None,
        session: boto3.Session | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        _check_scope(ip_set, region)
        self.ip_set = ip_set
        self._region = region
        self._stop = stop or threading.Event()
        session = session or boto3.Session()
        self._client = session.client(
            "wafv2", region_name=region, endpoint_url=endpoint_url, config=CLIENT_CONFIG
        )

    def block(self, address: str) -> bool:
        """Add `address` to the set; False if it was already there."""
        cidr = host_cidr(address)
        added = self._change(cidr, lambda addresses: _adding(self.ip_set, addresses, cidr))
        if added:
            log.info("waf.blocked", extra={"ip_set": self.ip_set.name, "cidr": cidr})
        return added

    def unblock(self, address: str) -> bool:
        """Remove `address` from the set; False if it was not there."""
        cidr = host_cidr(address)
        removed = self._change(cidr, lambda addresses: _removing(addresses, cidr))
        if removed:
            log.info("waf.unblocked", extra={"ip_set": self.ip_set.name, "cidr": cidr})
        return removed

    def blocked(self) -> set[str]:
        """The CIDRs in the set, written the way `block` writes them."""
        try:
            ip_set, _ = self._get()
        except (ClientError, BotoCoreError) as error:
            raise self._refusal(error) from error
        return {_normalised(entry) for entry in ip_set["Addresses"]}

    def _change(self, cidr: str, edit: Edit) -> bool:
        """Read, edit and write the set, again on a fresh read after a lock conflict."""
        try:
            for attempt in self._lock_retrying():
                with attempt:
                    ip_set, lock_token = self._get()
                    _check_version(self.ip_set, ip_set, cidr)
                    addresses = edit(ip_set["Addresses"])
                    if addresses is None:
                        return False
                    self._update(ip_set, addresses, lock_token)
                    return True
        except (ClientError, BotoCoreError) as error:
            raise self._refusal(error) from error
        raise AssertionError("unreachable: tenacity reraises")

    def _get(self) -> tuple[dict, str]:
        ref = self.ip_set
        answer = self._client.get_ip_set(Name=ref.name, Scope=ref.scope, Id=ref.id)
        return answer["IPSet"], answer["LockToken"]

    def _update(self, ip_set: dict, addresses: list[str], lock_token: str) -> None:
        # UpdateIPSet replaces every mutable field, so a description left out
        # would be wiped; send back the one the set has.
        description = {"Description": ip_set["Description"]} if ip_set.get("Description") else {}
        ref = self.ip_set
        self._client.update_ip_set(
            Name=ref.name, Scope=ref.scope, Id=ref.id,
            Addresses=addresses, LockToken=lock_token, **description,
        )  # fmt: skip

    def _lock_retrying(self) -> Retrying:
        stop = self._stop
        return Retrying(
            retry=retry_if_exception(is_lock_conflict),
            wait=wait_exponential_jitter(multiplier=0.05, max=1, jitter=0.1),
            stop=stop_after_attempt(LOCK_ATTEMPTS) | (lambda state: stop.is_set()),
            sleep=stop.wait,
            before_sleep=self._log_conflict,
            reraise=True,
        )

    def _log_conflict(self, state: RetryCallState) -> None:
        log.warning(
            "waf.lock_conflict",
            extra={"ip_set": self.ip_set.name, "attempt": state.attempt_number},
        )

    def _refusal(self, error: ClientError | BotoCoreError) -> WafError:
        if isinstance(error, BotoCoreError):
            text = f"the WAF call for {self.ip_set} in {self._region} failed: {error}"
        else:
            text = _explain(error, self.ip_set, self._region)
        return WafError(_one_line(text))


def host_cidr(address: str) -> str:
    """`address` as the one-host CIDR WAF wants: 203.0.113.7/32, 2001:db8::7/128."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        raise WafError(
            f"{address!r} is not an IP address; give one such as 203.0.113.7 or 2001:db8::7"
        ) from None
    if getattr(ip, "scope_id", None):
        raise WafError(f"{address!r} names a network interface; give the address without %zone")
    return f"{ip}/{ip.max_prefixlen}"


def is_lock_conflict(error: BaseException) -> bool:
    return _code(error) == "WAFOptimisticLockException"


def _adding(ref: IpSetRef, addresses: list[str], cidr: str) -> list[str] | None:
    if cidr in {_normalised(entry) for entry in addresses}:
        return None
    if len(addresses) >= MAX_ADDRESSES:
        raise WafError(
            f"{ref} is full: it holds {len(addresses):,} addresses, WAF's limit is "
            f"{MAX_ADDRESSES:,}; unblock some or use another IP set"
        )
    return [*addresses, cidr]


def _removing(addresses: list[str], cidr: str) -> list[str] | None:
    # Entries written by other tools may spell the address differently
    # (2001:DB8::1/128); compare the networks, keep everything else verbatim.
    kept = [entry for entry in addresses if _normalised(entry) != cidr]
    return kept if len(kept) < len(addresses) else None


def _check_version(ref: IpSetRef, ip_set: dict, cidr: str) -> None:
    version = ip_set["IPAddressVersion"]
    wanted = "IPV6" if ":" in cidr else "IPV4"
    if version != wanted:
        raise WafError(
            f"{ref} holds {version} addresses and {cidr} is {wanted}; "
            f"use an IP set created for {wanted}"
        )


def _check_scope(ref: IpSetRef, region: str) -> None:
    if ref.scope not in SCOPES:
        raise WafError(f"{ref}: scope must be REGIONAL or CLOUDFRONT, not {ref.scope!r}")
    if ref.scope == "CLOUDFRONT" and region != CLOUDFRONT_REGION:
        raise WafError(f"{ref}: CLOUDFRONT IP sets live in {CLOUDFRONT_REGION}, not {region}")


def _normalised(entry: str) -> str:
    try:
        return str(ipaddress.ip_network(entry.strip(), strict=False))
    except ValueError:
        return entry


def _code(error: BaseException) -> str | None:
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code")
    return None


def _explain(error: ClientError, ref: IpSetRef, region: str) -> str:
    code = _code(error)
    message = error.response.get("Error", {}).get("Message") or code
    if code == "WAFNonexistentItemException":
        return f"WAF has no {ref} in {region}; check the name, id, scope and region"
    if code == "WAFOptimisticLockException":
        return f"{ref} kept changing under us ({LOCK_ATTEMPTS} tries); try again"
    if code in ("ThrottlingException", "WAFInternalErrorException"):
        return f"WAF is still failing ({code}) after retries for {ref}; try again in a minute"
    if code == "WAFLimitsExceededException":
        return f"WAF refused the change to {ref}, a limit would be exceeded: {message}"
    if code == "WAFInvalidParameterException":
        return f"WAF refused the change to {ref} as invalid: {message}"
    return f"WAF refused the request for {ref} ({code}): {message}"


def _one_line(text: str) -> str:
    return " ".join(text.split())
