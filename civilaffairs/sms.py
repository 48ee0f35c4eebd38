"""Text messages. The bureau's SMS gateway is reached through a backend class named by the
SMS_BACKEND setting; the default only logs what it would send (intranets rarely have one)."""

import logging
import uuid

from civilaffairs.masking import mask_phone

log = logging.getLogger("civilaffairs.sms")


class BaseBackend:
    def send(self, phone: str, text: str) -> str:
        """Send ``text`` to ``phone``; return the gateway's reference, raise on failure."""
        raise NotImplementedError


class LoggingBackend(BaseBackend):
    """Writes the message to the log (phone masked) instead of sending it."""

    def send(self, phone: str, text: str) -> str:
        reference = f"log-{uuid.uuid4().hex[:12]}"
        log.info("SMS %s to %s: %s", reference, mask_phone(phone), text)
        return reference


class MemoryBackend(BaseBackend):
    """Keeps messages in memory, for tests."""

    outbox: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> str:
        MemoryBackend.outbox.append((phone, text))
        return f"mem-{len(MemoryBackend.outbox)}"
