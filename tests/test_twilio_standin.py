"""The Twilio stand-in's own promises: a slow mode that still delivers, a control path to switch
modes while it runs, a log of what it received, and a command line (the fault benchmark's)."""
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.twilio_standin import CONTROL_PATH, TwilioStandIn

ROOT = Path(__file__).resolve().parents[1]
SID = "AC" + "0" * 32


def send(url, to="+8613800001111", timeout=10):
    session = requests.Session()
    session.trust_env = False
    return session.post(f"{url}/2010-04-01/Accounts/{SID}/Messages.json", auth=(SID, "token"),
                        data={"To": to, "From": "+15005550006", "Body": "验证码123456"},
                        timeout=timeout)


def test_slow_mode_answers_like_ok_after_the_delay():
    with TwilioStandIn("slow", delay=0.3) as twilio:
        started = time.monotonic()
        response = send(twilio.url)
        assert time.monotonic() - started >= 0.3
        assert response.status_code == 201
        assert response.json()["status"] == "queued"
        assert twilio.messages[0].answered == 201


def test_the_control_path_switches_mode_and_delay():
    with TwilioStandIn() as twilio:
        session = requests.Session()
        session.trust_env = False
        answer = session.post(twilio.url + CONTROL_PATH, data={"mode": "error", "delay": "0.1"},
                              timeout=5)
        assert answer.json() == {"mode": "error", "delay": 0.1}
        assert send(twilio.url).status_code == 500
        assert session.post(twilio.url + CONTROL_PATH, data={"mode": "nonsense"},
                            timeout=5).status_code == 400
        assert twilio.mode == "error"


def test_the_log_has_one_line_per_message(tmp_path):
    log = tmp_path / "messages.jsonl"
    with TwilioStandIn(log_path=str(log)) as twilio:
        send(twilio.url, to="+8613800002222")
        twilio.mode = "reject"
        send(twilio.url, to="+8613800003333")
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [(line["to"], line["status"]) for line in lines] == [
        ("+8613800002222", 201), ("+8613800003333", 400)]
    assert lines[0]["body"] == "验证码123456"


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError):
        TwilioStandIn("sometimes")


def test_it_runs_as_a_process(tmp_path, closed_port):
    process = subprocess.Popen([sys.executable, "-m", "tests.twilio_standin", "--port",
                                str(closed_port), "--log", str(tmp_path / "log.jsonl")],
                               cwd=ROOT, stdout=subprocess.PIPE, text=True)
    with process:
        try:
            assert "twilio stand-in on" in process.stdout.readline()
            assert send(f"http://127.0.0.1:{closed_port}").status_code == 201
            assert (tmp_path / "log.jsonl").read_text(encoding="utf-8").count("\n") == 1
        finally:
            process.terminate()
            assert process.wait(10) == 0
