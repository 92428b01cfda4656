"""Twilio Programmable Messaging through the official client. The only module importing twilio."""
import logging
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from sms.delivery import DeliveryFailed

log = logging.getLogger("sms.twilio")
TIMEOUT_SECONDS = 10


class RedirectingHttpClient(TwilioHttpClient):
    """Sends every request to `base_url` instead of api.twilio.com: a local stand-in in tests.

    The client has no base-URL setting; a custom http_client is the supported way in."""

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        self._base = urlsplit(base_url)

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        url = urlunsplit((self._base.scheme, self._base.netloc, parts.path, parts.query, ""))
        return super().request(method, url, *args, **kwargs)


def _client(config) -> Client:
    http_client = (RedirectingHttpClient(config["TWILIO_BASE_URL"], timeout=TIMEOUT_SECONDS)
                   if config.get("TWILIO_BASE_URL") else TwilioHttpClient(timeout=TIMEOUT_SECONDS))
    return Client(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"],
                  http_client=http_client)


def send(phone: str, text: str, config) -> str:
    """Send one message to a mainland number; return Twilio's message SID."""
    try:
        message = _client(config).messages.create(
            to=f"+86{phone}", from_=config["TWILIO_FROM_NUMBER"], body=text)
    except TwilioRestException as error:
        log.error("twilio refused the message: status=%s code=%s", error.status, error.code)
        raise DeliveryFailed(f"twilio status {error.status}") from error
    except (requests.exceptions.RequestException, TwilioException) as error:
        log.error("twilio unreachable: %s", type(error).__name__)
        raise DeliveryFailed("twilio unreachable") from error
    return message.sid
