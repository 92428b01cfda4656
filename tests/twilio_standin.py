"""A local stand-in for the Twilio Messages API, for the real twilio client to talk to.

    with TwilioStandIn() as twilio:            # listens on 127.0.0.1, a free port
        app.config["TWILIO_BASE_URL"] = twilio.url
        ...
        twilio.messages                        # what was received: to, from, body, auth, ...
        twilio.mode = "reject"                 # next answers: 400 Twilio error 21211
        twilio.mode = "error"                  # next answers: 500
        twilio.mode = "slow"                   # next answers: 201, after `twilio.delay` seconds

It only ever binds 127.0.0.1 and answers POST /2010-04-01/Accounts/{sid}/Messages.json the
way Twilio does (201 and a message resource; or a Twilio error document).

As a process, for the fault benchmark (bench/surge/faults.py) against the prod-local shape:

    python -m tests.twilio_standin --port 9099 [--mode slow] [--delay 5] [--log messages.jsonl]
    curl -d mode=error http://127.0.0.1:9099/_standin/mode    # switch while it runs

--log appends one JSON line per message received ({"to", "body", "status", "at"}), the way the
SMS outbox does, so codes can be read back."""
import argparse
import base64
import json
import re
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

from tests.standin_server import LocalStandIn

MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")
MODES = ("ok", "reject", "error", "slow")
CONTROL_PATH = "/_standin/mode"


@dataclass
class Received:
    """One request as the stand-in saw it."""
    method: str
    path: str
    account_sid: str | None
    form: dict
    auth: tuple[str, str] | None
    headers: dict = field(default_factory=dict)
    answered: int = 0

    @property
    def to(self):
        return self.form.get("To")

    @property
    def from_(self):
        return self.form.get("From")

    @property
    def body(self):
        return self.form.get("Body")


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return None
    return user, password


def _error(code: int, message: str, status: int) -> dict:
    return {"code": code, "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


def _message(sid: str, form: dict) -> dict:
    now = formatdate(usegmt=True)
    message_sid = "SM" + uuid.uuid4().hex
    uri = f"/2010-04-01/Accounts/{sid}/Messages/{message_sid}"
    return {
        "account_sid": sid, "api_version": "2010-04-01", "body": form.get("Body"),
        "date_created": now, "date_sent": None, "date_updated": now, "direction": "outbound-api",
        "error_code": None, "error_message": None, "from": form.get("From"),
        "messaging_service_sid": None, "num_media": "0", "num_segments": "1", "price": None,
        "price_unit": "USD", "sid": message_sid, "status": "queued",
        "subresource_uris": {"media": f"{uri}/Media.json"}, "to": form.get("To"),
        "uri": f"{uri}.json",
    }


class TwilioStandIn(LocalStandIn):
    def __init__(self, mode: str = "ok", *, port: int = 0, delay: float = 5.0,
                 log_path: str | None = None):
        self._mode = "ok"
        self.mode = mode
        self.delay = delay  # seconds before a "slow" answer
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self._port = port
        self._log_path = log_path
        self._server = None
        self._thread = None

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self._mode = mode

    # -- answering (tests/standin_server.py runs the server) -----------------------------------
    def _handle_post(self, handler) -> None:
        self._handle(handler)

    def _handle_get(self, handler) -> None:
        self._reply(handler, 404, _error(20404, "The requested resource was not found", 404))

    @property
    def messages(self) -> list[Received]:
        """Requests to the Messages endpoint, in order of arrival."""
        with self._lock:
            return [r for r in self.requests if r.account_sid is not None]

    # -- answering ----------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode("utf-8") if length else ""
        form = {key: values[-1] for key, values in parse_qs(raw, keep_blank_values=True).items()}
        if handler.path == CONTROL_PATH:
            self._control(handler, form)
            return
        match = MESSAGES_PATH.match(handler.path.split("?", 1)[0])
        received = Received(
            method="POST", path=handler.path, account_sid=match["sid"] if match else None,
            form=form, auth=_basic_auth(handler.headers.get("Authorization")),
            headers=dict(handler.headers.items()))
        with self._lock:
            self.requests.append(received)
        if self.mode == "slow":
            time.sleep(self.delay)
        status, document = self._answer(received)
        received.answered = status
        self._log(received)
        self._reply(handler, status, document)

    def _control(self, handler: BaseHTTPRequestHandler, form: dict) -> None:
        try:
            self.mode = form.get("mode", self.mode)
            self.delay = float(form.get("delay", self.delay))
        except ValueError as problem:
            self._reply(handler, 400, {"message": str(problem)})
            return
        self._reply(handler, 200, {"mode": self.mode, "delay": self.delay})

    def _log(self, received: Received) -> None:
        if self._log_path is None or received.account_sid is None:
            return
        line = json.dumps({"to": received.to, "body": received.body, "status": received.answered,
                           "at": datetime.now(UTC).isoformat()}, ensure_ascii=False)
        with self._lock, open(self._log_path, "a", encoding="utf-8") as log:
            log.write(line + "\n")

    def _answer(self, received: Received) -> tuple[int, dict]:
        if received.account_sid is None:
            return 404, _error(20404, "The requested resource was not found", 404)
        if received.auth is None or received.auth[0] != received.account_sid:
            return 401, _error(20003, "Authenticate", 401)
        if self.mode == "reject":
            return 400, _error(21211, f"The 'To' number {received.to} is not a valid phone "
                                      "number.", 400)
        if self.mode == "error":
            return 500, _error(20500, "Internal Server Error", 500)
        # "slow" has waited already; it then answers like "ok"
        if not received.to or not received.from_ or not received.body:
            return 400, _error(21604, "A 'To' phone number, 'From' and 'Body' are required.",
                               400)
        return 201, _message(received.account_sid, received.form)

    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, status: int, document: dict) -> None:
        payload = json.dumps(document).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(payload)))
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(payload)


def main() -> None:
    parser = argparse.ArgumentParser(description="A local Twilio Messages API stand-in.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--mode", choices=MODES, default="ok")
    parser.add_argument("--delay", type=float, default=5.0, help="seconds, in slow mode")
    parser.add_argument("--log", help="append one JSON line per message received")
    args = parser.parse_args()
    standin = TwilioStandIn(args.mode, port=args.port, delay=args.delay, log_path=args.log)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    with standin:
        print(f"twilio stand-in on {standin.url} (mode {standin.mode})", flush=True)
        stopped.wait()


if __name__ == "__main__":
    main()
