"""Google's two error dialects: the API's JSON errors and the OAuth token errors.

An API refusal looks like this on the wire (Drive v3 and Admin Directory)::

    {"error": {"code": 403, "message": "Rate Limit Exceeded",
               "errors": [{"message": "Rate Limit Exceeded",
                           "domain": "usageLimits", "reason": "rateLimitExceeded"}],
               "status": "PERMISSION_DENIED"}}

googleapiclient's HttpError takes ``error.message`` as its ``reason`` and the
first of ``details``/``errors`` as ``error_details``, so an error that carries
``details`` (scope errors, unknown JSON names) shows those to the client.
The token endpoint answers ``{"error": ..., "error_description": ...}``.
"""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

# The message Google puts beside each well-known reason.
REASON_MESSAGES = {
    "rateLimitExceeded": "Rate Limit Exceeded",
    "userRateLimitExceeded": "User Rate Limit Exceeded",
    "sharingRateLimitExceeded": (
        'Rate limit exceeded. User message: "Sorry, you have exceeded your sharing quota."'
    ),
    "backendError": "Backend Error",
    "internalError": "Internal Error",
    "domainPolicy": "The domain administrators have disabled Drive apps.",
    "forbidden": "Forbidden",
    "notFound": "Not Found",
    "badRequest": "Bad Request",
}
USAGE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "dailyLimitExceeded"}


class GoogleApiError(Exception):
    """A refusal in the API's words; ``to_json()`` is the response body."""

    def __init__(
        self, code: int, reason: str, message: str | None = None, *,
        location: str | None = None, location_type: str = "parameter",
        domain: str | None = None, details: list[Json] | None = None,
        headers: dict[str, str] | None = None, top_message: str | None = None,
    ) -> None:
        self.message = message or REASON_MESSAGES.get(reason, reason)
        super().__init__(f"{code} {reason}: {self.message}")
        self.code = code
        self.reason = reason
        self.location = location
        self.location_type = location_type
        self.domain = domain or ("usageLimits" if reason in USAGE_LIMIT_REASONS else "global")
        self.details = details
        self.headers = headers or {}
        self.top_message = top_message or self.message

    def to_json(self) -> Json:
        item: Json = {"message": self.message, "domain": self.domain, "reason": self.reason}
        if self.location:
            item["location"] = self.location
            item["locationType"] = self.location_type
        body: Json = {"code": self.code, "message": self.top_message, "errors": [item]}
        body["status"] = STATUS_NAMES.get(self.code, "UNKNOWN")
        if self.details:
            body["details"] = self.details
        return {"error": body}


class OAuthError(Exception):
    """A refusal from the token endpoint (RFC 6749 section 5.2, Google's wording)."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description

    def to_json(self) -> Json:
        return {"error": self.error, "error_description": self.description}


# -- the refusals the emulator gives most often --------------------------------


def file_not_found(file_id: str) -> GoogleApiError:
    message = f"File not found: {file_id}."
    return GoogleApiError(404, "notFound", message, location="fileId")


def drive_not_found(drive_id: str) -> GoogleApiError:
    message = f"Shared drive not found: {drive_id}"
    return GoogleApiError(404, "notFound", message, location="driveId")


def permission_not_found(permission_id: str) -> GoogleApiError:
    message = f"Permission not found: {permission_id}."
    return GoogleApiError(404, "notFound", message, location="permissionId")


def invalid_value(location: str, message: str = "Invalid Value") -> GoogleApiError:
    return GoogleApiError(400, "invalid", message, location=location)


def out_of_range(location: str, value: object, low: int, high: int) -> GoogleApiError:
    message = f"Invalid value '{value}'. Values must be within the range: [{low}, {high}]"
    return GoogleApiError(400, "invalid", message, location=location)


def bad_request(message: str, location: str | None = None) -> GoogleApiError:
    return GoogleApiError(400, "badRequest", message, location=location)


def insufficient_file_permissions() -> GoogleApiError:
    message = "The user does not have sufficient permissions for this file."
    return GoogleApiError(403, "insufficientFilePermissions", message)


def not_writable() -> GoogleApiError:
    message = "The resource body includes fields which are not directly writable."
    return GoogleApiError(403, "fieldNotWritable", message)


def unknown_json_name(name: str, where: str = "") -> GoogleApiError:
    """What Google's front end says about a body field the schema does not have."""
    at = f" at '{where}'" if where else ""
    message = f'Invalid JSON payload received. Unknown name "{name}"{at}: Cannot find field.'
    violation = {"field": f"{where}.{name}" if where else name, "description": message}
    details = [{
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        "fieldViolations": [violation],
    }]
    return GoogleApiError(400, "invalid", message, details=details)


def login_required() -> GoogleApiError:
    return GoogleApiError(
        401, "required", "Login Required.", location="Authorization",
        location_type="header", top_message=(
            "Request is missing required authentication credential. Expected OAuth 2 "
            "access token, login cookie or other valid authentication credential. See "
            "https://developers.google.com/identity/sign-in/web/devconsole-project."
        ),
        headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
    )


def invalid_credentials() -> GoogleApiError:
    return GoogleApiError(
        401, "authError", "Invalid Credentials", location="Authorization",
        location_type="header", top_message=(
            "Request had invalid authentication credentials. Expected OAuth 2 access "
            "token, login cookie or other valid authentication credential. See "
            "https://developers.google.com/identity/sign-in/web/devconsole-project."
        ),
        headers={
            "WWW-Authenticate":
                'Bearer realm="https://accounts.google.com/", error="invalid_token"',
        },
    )


def insufficient_scopes(service: str, method: str) -> GoogleApiError:
    details = [{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
        "domain": "googleapis.com",
        "metadata": {"service": service, "method": method},
    }]
    return GoogleApiError(
        403, "insufficientPermissions", "Insufficient Permission",
        top_message="Request had insufficient authentication scopes.", details=details,
        headers={
            "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", '
            'error="insufficient_scope"',
        },
    )


def injected(code: int, reason: str, message: str | None = None,
             retry_after: int | None = None) -> GoogleApiError:
    """A fault a test asked for, shaped like the real one."""
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return GoogleApiError(code, reason, message, headers=headers)
