"""Delivery backends. Which one runs is SMS_BACKEND: console, outbox or twilio."""
import json
import logging
import threading
from datetime import UTC, datetime

from flask import current_app

log = logging.getLogger("sms")
_outbox_lock = threading.Lock()


class DeliveryFailed(Exception):
    """The message did not leave; the person is told to try again later."""


def _console(phone: str, text: str) -> None:
    log.warning("SMS to %s: %s", phone, text)
    print(f"[SMS] to {phone}: {text}", flush=True)


def _outbox(phone: str, text: str) -> None:
    path = current_app.config["SMS_OUTBOX"]
    if not path:
        raise DeliveryFailed("SMS_OUTBOX is not set")
    line = json.dumps({"to": phone, "body": text, "at": datetime.now(UTC).isoformat()},
                      ensure_ascii=False)
    with _outbox_lock, open(path, "a", encoding="utf-8") as outbox:
        outbox.write(line + "\n")


def _twilio(phone: str, text: str) -> None:
    from sms.twilio_backend import send
    send(phone, text, current_app.config)


BACKENDS = {"console": _console, "outbox": _outbox, "twilio": _twilio}


def deliver(phone: str, text: str) -> None:
    backend = BACKENDS.get(current_app.config["SMS_BACKEND"])
    if backend is None:
        raise RuntimeError(f"unknown SMS_BACKEND {current_app.config['SMS_BACKEND']!r}")
    backend(phone, text)
