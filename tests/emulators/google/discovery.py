"""The discovery documents shipped inside google-api-python-client, read once.

They are the emulator's contract: which scopes each method accepts, which
fields each resource has (for ``fields`` masks and request bodies) and each
method's default and maximum page size.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import googleapiclient

Json = dict[str, Any]
DOCUMENTS = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"
SERVICES = {"drive": "drive.v3.json", "directory": "admin.directory_v1.json"}
SERVICE_HOSTS = {"drive": "drive.googleapis.com", "directory": "admin.googleapis.com"}


@functools.cache
def document(service: str) -> Json:
    """The discovery document of ``drive`` or ``directory``."""
    return json.loads((DOCUMENTS / SERVICES[service]).read_text(encoding="utf-8"))


@functools.cache
def methods() -> dict[str, Json]:
    """Every method by its discovery id, e.g. ``drive.files.list``."""
    found: dict[str, Json] = {}
    for service in SERVICES:
        _collect(document(service).get("resources", {}), found)
    return found


def _collect(resources: Json, found: dict[str, Json]) -> None:
    for resource in resources.values():
        for method in resource.get("methods", {}).values():
            found[method["id"]] = method
        _collect(resource.get("resources", {}), found)


def scopes(method_id: str) -> frozenset[str]:
    return frozenset(methods()[method_id].get("scopes", ()))


def service_of(method_id: str) -> str:
    return method_id.split(".", 1)[0]


def schema(service: str, name: str) -> Json:
    return document(service)["schemas"][name]


def properties(service: str, name: str) -> Json:
    return schema(service, name).get("properties", {})


def page_limits(method_id: str, parameter: str = "pageSize") -> tuple[int, int, int]:
    """(default, minimum, maximum) of a list method's page size parameter."""
    spec = methods()[method_id]["parameters"][parameter]
    return int(spec.get("default", 100)), int(spec["minimum"]), int(spec["maximum"])


class SchemaNode:
    """A position in a schema tree: which child names exist and where they lead."""

    def __init__(self, service: str, spec: Json) -> None:
        self.service = service
        self.spec = spec

    @classmethod
    def named(cls, service: str, name: str) -> SchemaNode:
        return cls(service, schema(service, name))

    def child(self, name: str) -> SchemaNode | None:
        """The node for field ``name``, or None when the schema has no such field."""
        spec = self._resolved(self.spec)
        if name in spec.get("properties", {}):
            return SchemaNode(self.service, self._resolved(spec["properties"][name]))
        if "additionalProperties" in spec:  # a map: any key is a field
            return SchemaNode(self.service, self._resolved(spec["additionalProperties"]))
        return None

    def _resolved(self, spec: Json) -> Json:
        while True:
            if "$ref" in spec:
                spec = schema(self.service, spec["$ref"])
            elif spec.get("type") == "array" and "items" in spec:
                spec = spec["items"]
            else:
                return spec
