"""What every API call goes through: count, authenticate, check scopes, faults.

Handlers are plain functions of a ``Call`` that return a JSON-able dict (or
None for 204) and raise GoogleApiError to refuse. They run on the server's
loop thread while holding the workspace lock; the JSON is encoded after the
lock is released.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from . import discovery, fields
from .directory import User
from .errors import (
    GoogleApiError,
    bad_request,
    insufficient_scopes,
    invalid_value,
    out_of_range,
)
from .faults import Faults
from .fields import Mask
from .oauth import AccessGrant, TokenService
from .workspace import Workspace

Json = dict[str, Any]
Handler = Callable[["Call"], Json | None]
JSON_TYPE = "application/json; charset=UTF-8"


class Call:
    """One API request, already authenticated."""

    def __init__(self, ws: Workspace, grant: AccessGrant, request: web.Request,
                 body: Any) -> None:
        self.ws = ws
        self.grant = grant
        self.user: User | None = ws.directory.get(grant.principal)
        self.query = {key: request.query.getone(key) for key in request.query}
        self.path = dict(request.match_info)
        self.body = body

    def flag(self, name: str) -> bool | None:
        """A boolean query parameter: None when absent."""
        value = self.query.get(name)
        if value is None:
            return None
        if value.lower() not in ("true", "false"):
            raise invalid_value(name, f"Invalid value '{value}' for boolean parameter {name}.")
        return value.lower() == "true"

    def integer(self, name: str, default: int | None, low: int, high: int,
                clamp: bool = True) -> int | None:
        """An integer parameter; above ``high`` it is coerced down when ``clamp``."""
        text = self.query.get(name)
        if text is None:
            return default
        try:
            value = int(text)
        except ValueError:
            raise out_of_range(name, text, low, high) from None
        if value < low or (value > high and not clamp):
            raise out_of_range(name, value, low, high)
        return min(value, high)

    def mask(self, service: str, schema: str, default: Mask | None) -> Mask | None:
        mask = fields.parse(self.query.get("fields"))
        fields.validate(mask, discovery.SchemaNode.named(service, schema))
        return default if mask is None else mask

    def require(self, name: str) -> str:
        value = self.query.get(name) or self.path.get(name)
        if not value:
            message = f"Required parameter: {name}"
            raise GoogleApiError(400, "required", message, location=name)
        return value


def page_token(position: int, *context: object) -> str:
    """An opaque token for a position in a listing, bound to the query it came from."""
    check = zlib.crc32("|".join(map(str, context)).encode())
    raw = json.dumps([position, check]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_page_token(token: str | None, *context: object) -> int:
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        position, check = json.loads(raw)
        valid = isinstance(position, int) and position >= 0
    except (ValueError, TypeError):
        valid = False
    if not valid or check != zlib.crc32("|".join(map(str, context)).encode()):
        raise invalid_value("pageToken")
    return position


def error_response(error: GoogleApiError) -> web.Response:
    return web.Response(status=error.code, text=json.dumps(error.to_json()),
                        content_type="application/json", charset="UTF-8",
                        headers=error.headers)


class Api:
    def __init__(self, ws: Workspace, tokens: TokenService, faults: Faults) -> None:
        self.ws = ws
        self.tokens = tokens
        self.faults = faults

    def endpoint(self, method_id: str,
                 handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            self.faults.count(method_id)
            try:
                body = await _body(request)
                call = self._admit(method_id, request, body)
                with self.ws.lock:
                    result = handler(call)
            except GoogleApiError as error:
                return error_response(error)
            if result is None:
                return web.Response(status=204)
            return web.Response(text=json.dumps(result), content_type="application/json",
                                charset="UTF-8")

        return handle

    def _admit(self, method_id: str, request: web.Request, body: Any) -> Call:
        grant = self.tokens.authenticate(
            request.headers.get("Authorization"), request.query.get("access_token")
        )
        if not grant.scopes & discovery.scopes(method_id):
            service = discovery.SERVICE_HOSTS[discovery.service_of(method_id)]
            raise insufficient_scopes(service, method_id)
        planned = self.faults.planned_error(method_id)
        if planned is not None:
            raise planned
        if discovery.service_of(method_id) == "drive":
            denial = self.faults.denial(grant.principal)
            if denial is not None:
                raise denial
        return Call(self.ws, grant, request, body)


async def _body(request: web.Request) -> Any:
    if request.method not in ("POST", "PATCH", "PUT") or not request.can_read_body:
        return None
    text = await request.text()
    if not text.strip():
        return {}
    try:
        return json.loads(text)
    except ValueError:
        raise bad_request("Invalid JSON payload received. Unexpected token.") from None
