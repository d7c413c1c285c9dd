"""The small family of errors a person can be shown.

Anything else that escapes a listener is a bug: the global error handler shows
the person a short id and logs the traceback under it.
"""


class WardenError(Exception):
    """An error whose message is written for the person who caused it."""

    code = "warden_error"


class BadInput(WardenError):
    """What the person typed or chose cannot be used; the message says what is expected."""

    code = "bad_input"


class NotAllowed(WardenError):
    """The person may not do this under the policy."""

    code = "not_allowed"


class NotFound(WardenError):
    """The thing the person pointed at does not exist (any more)."""

    code = "not_found"
