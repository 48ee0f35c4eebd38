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
