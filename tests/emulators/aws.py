"""AWS for tests: moto's server on loopback, reached over real HTTP by boto3.

Sessions made here carry fake keys and point botocore's config and
credentials files at nothing, so a developer's ~/.aws is never read and no
test can touch a real account.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import boto3
import botocore.session
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
FAKE_KEY_ID = "AKIAWARDENTESTING000"
FAKE_SECRET = "warden-testing-secret"


@dataclass(frozen=True)
class CreatedIpSet:
    """A WAFv2 IP set made for one test."""

    name: str
    id: str
    scope: str
    arn: str


def offline_session(region: str = REGION) -> boto3.Session:
    """A boto3 session with fake keys that reads no AWS config from disk."""
    core = botocore.session.Session()
    core.set_config_variable("config_file", os.devnull)
    core.set_config_variable("credentials_file", os.devnull)
    return boto3.Session(
        aws_access_key_id=FAKE_KEY_ID,
        aws_secret_access_key=FAKE_SECRET,
        region_name=region,
        botocore_session=core,
    )


class MotoServer:
    """moto's server on a port the OS picks, for a `with` block."""

    def __init__(self) -> None:
        # Port 0 lets the OS choose a free port while binding, so two test
        # runs never race for the same one.
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._clients: dict[tuple[str, str], object] = {}
        self.url = ""

    def __enter__(self) -> MotoServer:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.stop()

    def client(self, service: str, region: str = REGION):
        """A client of this server, kept: making one costs tens of milliseconds."""
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = offline_session(region).client(service, endpoint_url=self.url)
        return self._clients[key]

    def create_ip_set(
        self,
        version: str = "IPV4",
        addresses: Iterable[str] = (),
        scope: str = "REGIONAL",
        region: str = REGION,
    ) -> CreatedIpSet:
        """A new IP set with a unique name, so tests never share one."""
        answer = self.client("wafv2", region).create_ip_set(
            Name=f"warden-test-{uuid.uuid4().hex[:10]}",
            Scope=scope,
            IPAddressVersion=version,
            Addresses=list(addresses),
            Description="made by a Warden test",
        )
        summary = answer["Summary"]
        return CreatedIpSet(summary["Name"], summary["Id"], scope, summary["ARN"])
