"""A Redis cache that degrades to "nothing cached" when Redis is unreachable.

The cache only ever holds things that can be recomputed, so an outage of Redis must cost speed,
not requests: every operation that cannot reach the server logs one warning per outage and
answers as an empty cache would (``get`` → default, ``add`` → False, ``incr`` → ValueError as
for a missing key). After a failure the server is not tried again for ``DOWN_RETRY_AFTER``
seconds, so a Redis that hangs rather than refuses costs each request one short timeout at most
once per window, not once per cache call. /healthz talks to the client directly and still
reports the outage."""

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)

# location → monotonic time before which the server is not tried (shared by all threads: Django
# keeps one cache object per thread).
_down_until: dict[str, float] = {}
_lock = threading.Lock()


class ResilientRedisCache(RedisCache):
    """Django's RedisCache whose operations never raise for an unreachable server."""

    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        self.down_retry_after = float(options.pop("DOWN_RETRY_AFTER", 10))
        super().__init__(server, {**params, "OPTIONS": options})
        self._location = server if isinstance(server, str) else ",".join(server)

    # --- the outage window -------------------------------------------------------------------

    def is_down(self) -> bool:
        return _down_until.get(self._location, 0.0) > time.monotonic()

    def _failed(self, operation: str, error: Exception):
        with _lock:
            first = not self.is_down()
            _down_until[self._location] = time.monotonic() + self.down_retry_after
        if first:
            log.warning(
                "cache: Redis unreachable (%s during %s); working without the cache, next try "
                "in %.0f s",
                type(error).__name__,
                operation,
                self.down_retry_after,
            )

    def _guard(self, operation: str, call, fallback):
        if self.is_down():
            return fallback()
        try:
            result = call()
        except UNREACHABLE as error:
            self._failed(operation, error)
            return fallback()
        if _down_until.get(self._location):
            with _lock:
                if _down_until.pop(self._location, None) is not None:
                    log.warning("cache: Redis reachable again")
        return result

    # --- operations --------------------------------------------------------------------------

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(
            "add", lambda: super(ResilientRedisCache, self).add(key, value, timeout, version), _no
        )

    def get(self, key, default=None, version=None):
        return self._guard(
            "get",
            lambda: super(ResilientRedisCache, self).get(key, default, version),
            lambda: default,
        )

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(
            "set", lambda: super(ResilientRedisCache, self).set(key, value, timeout, version), _none
        )

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(
            "touch", lambda: super(ResilientRedisCache, self).touch(key, timeout, version), _no
        )

    def delete(self, key, version=None):
        return self._guard(
            "delete", lambda: super(ResilientRedisCache, self).delete(key, version), _no
        )

    def get_many(self, keys, version=None):
        return self._guard(
            "get_many", lambda: super(ResilientRedisCache, self).get_many(keys, version), dict
        )

    def has_key(self, key, version=None):
        return self._guard(
            "has_key", lambda: super(ResilientRedisCache, self).has_key(key, version), _no
        )

    def incr(self, key, delta=1, version=None):
        def missing():
            raise ValueError(f"Key '{key}' not found (cache unreachable).")

        return self._guard(
            "incr", lambda: super(ResilientRedisCache, self).incr(key, delta, version), missing
        )

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        # Django's contract: the keys that could not be set.
        return self._guard(
            "set_many",
            lambda: super(ResilientRedisCache, self).set_many(data, timeout, version),
            lambda: list(data),
        )

    def delete_many(self, keys, version=None):
        return self._guard(
            "delete_many",
            lambda: super(ResilientRedisCache, self).delete_many(keys, version),
            _none,
        )

    def clear(self):
        return self._guard("clear", lambda: super(ResilientRedisCache, self).clear(), _no)


def _no():
    return False


def _none():
    return None
