"""VirusTotal's API v3 objects: files, URLs and domains, as documented at
docs.virustotal.com.

The key goes in the ``x-apikey`` header. Objects come back as
``{"data": {"id", "type", "links": {"self"}, "attributes"}}``, with the engine
results counted in ``attributes.last_analysis_stats``. A file is found by
any of its hashes (its id is the SHA-256); a URL by the URL-safe base64 of
the URL without padding, or by its id, the SHA-256 of the URL. Errors are
``{"error": {"code", "message"}}`` with the documented code for the status:
401 AuthenticationRequiredError or WrongCredentialsError, 404
NotFoundError, 429 QuotaExceededError, 503 TransientError.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from .faults import Fault

PREFIX = "/virustotal/api/v3"
# About as many engines as VirusTotal runs on each kind of object today.
FILE_ENGINES = 72
URL_ENGINES = 94

CODES = {
    400: "BadRequestError",
    401: "WrongCredentialsError",
    403: "ForbiddenError",
    404: "NotFoundError",
    429: "QuotaExceededError",
    503: "TransientError",
    504: "DeadlineExceededError",
}


@dataclass
class VtObject:
    id: str
    type: str  # "file", "url" or "domain"
    attributes: dict


class VirusTotalApi:
    def __init__(self, key: str, base_url: Callable[[], str]) -> None:
        self.key = key
        self._base_url = base_url
        self._objects: dict[tuple[str, str], VtObject] = {}  # (collection, any id)
        self._lock = threading.Lock()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(PREFIX + "/files/{id}", self.get_file, name="virustotal.files")
        app.router.add_get(PREFIX + "/urls/{id}", self.get_url, name="virustotal.urls")
        app.router.add_get(PREFIX + "/domains/{id}", self.get_domain, name="virustotal.domains")

    # -- seeding -----------------------------------------------------------------

    def add_file(self, file_hash: str, stats: dict, name: str | None, label: str | None) -> str:
        hashes = _hashes_of(file_hash.lower())
        attributes = {
            **hashes,
            "meaningful_name": name,
            "names": [name] if name else [],
            "type_description": "Win32 EXE",
            "size": 73_802,
            "last_analysis_date": int(time.time()),
            "last_analysis_stats": stats,
            "reputation": -stats["malicious"],
        }
        if label:
            attributes["popular_threat_classification"] = {"suggested_threat_label": label}
        found = VtObject(hashes["sha256"], "file", attributes)
        with self._lock:
            for value in hashes.values():
                self._objects[("files", value)] = found
        return found.id

    def add_url(self, url: str, stats: dict, title: str | None, final_url: str | None) -> str:
        object_id = hashlib.sha256(url.encode()).hexdigest()
        attributes = {
            "url": url,
            "last_final_url": final_url or url,
            "title": title or "",
            "last_analysis_date": int(time.time()),
            "last_analysis_stats": stats,
            "reputation": -stats["malicious"],
        }
        with self._lock:
            self._objects[("urls", object_id)] = VtObject(object_id, "url", attributes)
        return object_id

    def add_domain(self, domain: str, stats: dict, registrar: str | None) -> str:
        domain = domain.lower()
        attributes = {
            "last_analysis_date": int(time.time()),
            "last_analysis_stats": stats,
            "reputation": -stats["malicious"],
            "registrar": registrar,
            "categories": {},
        }
        with self._lock:
            self._objects[("domains", domain)] = VtObject(domain, "domain", attributes)
        return domain

    # -- the endpoints -------------------------------------------------------------

    async def get_file(self, request: web.Request) -> web.Response:
        file_id = request.match_info["id"]
        return self._answer(request, "files", file_id.lower(), f'File "{file_id}" not found')

    async def get_url(self, request: web.Request) -> web.Response:
        given = request.match_info["id"]
        return self._answer(request, "urls", _url_object_id(given), f'URL "{given}" not found')

    async def get_domain(self, request: web.Request) -> web.Response:
        domain = request.match_info["id"]
        return self._answer(request, "domains", domain.lower(), f'Domain "{domain}" not found')

    def fault(self, request: web.Request, fault: Fault) -> web.Response:
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        code = CODES.get(fault.status, "TransientError" if fault.status >= 500 else "Error")
        return error(fault.status, code, "Injected failure", headers)

    def _answer(self, request: web.Request, collection: str, key: str, missing: str):
        refused = self._refusal(request)
        if refused is not None:
            return refused
        with self._lock:
            found = self._objects.get((collection, key))
        if found is None:
            return error(404, "NotFoundError", missing)
        links = {"self": f"{self._base_url()}/{collection}/{found.id}"}
        data = {"id": found.id, "type": found.type, "links": links, "attributes": found.attributes}
        return web.json_response({"data": data})

    def _refusal(self, request: web.Request) -> web.Response | None:
        given = request.headers.get("x-apikey")
        if not given:
            return error(401, "AuthenticationRequiredError", "X-Apikey header is missing")
        if given != self.key:
            return error(401, "WrongCredentialsError", "Wrong API key")
        return None


def error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    body = {"error": {"code": code, "message": message}}
    return web.json_response(body, status=status, headers=headers)


def analysis_stats(
    engines: int, malicious: int, suspicious: int, harmless: int, undetected: int | None,
    kind: str,
) -> dict:  # fmt: skip
    """``last_analysis_stats`` as VirusTotal counts them for a file or a URL/domain."""
    if undetected is None:
        undetected = max(engines - malicious - suspicious - harmless, 0)
    stats = {
        "malicious": malicious,
        "suspicious": suspicious,
        "undetected": undetected,
        "harmless": harmless,
        "timeout": 0,
    }
    if kind == "file":
        stats.update({"type-unsupported": 0, "confirmed-timeout": 0, "failure": 0})
    return stats


def _hashes_of(file_hash: str) -> dict[str, str]:
    """All three hashes of a seeded file; the ones not given are made up, consistently."""
    by_length = {32: "md5", 40: "sha1", 64: "sha256"}
    kind = by_length.get(len(file_hash))
    if kind is None:
        raise ValueError("a file hash is an MD5, SHA-1 or SHA-256 in hex")
    seed = file_hash.encode()
    hashes = {
        "md5": hashlib.md5(seed).hexdigest(),
        "sha1": hashlib.sha1(seed).hexdigest(),
        "sha256": hashlib.sha256(seed).hexdigest(),
    }
    hashes[kind] = file_hash
    return hashes


def _url_object_id(given: str) -> str:
    """The SHA-256 id of a URL named by its id or by its unpadded URL-safe base64."""
    if len(given) == 64 and all(c in "0123456789abcdef" for c in given.lower()):
        return given.lower()
    try:
        url = base64.urlsafe_b64decode(given + "=" * (-len(given) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return hashlib.sha256(url.encode()).hexdigest()
