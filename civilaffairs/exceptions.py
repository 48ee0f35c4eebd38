"""Errors raised by services. Views turn them into a message on the page, the API into JSON."""

from civilaffairs.context import note_denial


class ServiceError(Exception):
    """A request the rules refuse (bad input, illegal transition). Message is user-facing."""

    status_code = 400

    def __init__(self, message, *, field: str | None = None, code: str = "invalid"):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.code = code


class PermissionDenied(ServiceError):
    status_code = 403

    def __init__(self, message, **kwargs):
        kwargs.setdefault("code", "permission_denied")
        super().__init__(message, **kwargs)
        note_denial(message)  # for the audit trail, written after the response


class Conflict(ServiceError):
    """Someone else changed the object first, or a client UUID was reused with other content."""

    status_code = 409

    def __init__(self, message, **kwargs):
        kwargs.setdefault("code", "conflict")
        super().__init__(message, **kwargs)
