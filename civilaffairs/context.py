"""Request context (client IP, user agent) for the audit trail, without passing the request
into every service: the middleware sets it, services read it."""

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    ip: str | None = None
    user_agent: str = ""


_EMPTY = RequestContext()
_current: ContextVar[RequestContext] = ContextVar("request_context", default=_EMPTY)


def current() -> RequestContext:
    return _current.get()


def set_current(value: RequestContext):
    return _current.set(value)


def reset(token):
    _current.reset(token)


# A refusal noted during a request (a service raising PermissionDenied, perhaps shown on the
# page as a message), recorded on the audit trail once the response is ready. None outside a
# request (tasks, commands): nothing is noted there.
_denial: ContextVar[list | None] = ContextVar("noted_denial", default=None)


def watch_denials():
    return _denial.set([])


def note_denial(message) -> None:
    noted = _denial.get()
    if noted is not None and not noted:
        noted.append(str(message)[:500])


def noted_denial() -> str | None:
    noted = _denial.get()
    return noted[0] if noted else None


def unwatch_denials(token):
    _denial.reset(token)
