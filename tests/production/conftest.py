"""The production shape as `make prod-local` runs it: nginx with TLS on 127.0.0.1, gunicorn,
the RQ worker, PostgreSQL and Redis, in staging mode. These tests talk to it only over HTTPS,
as a phone and a reviewer's desktop would; they read the SMS outbox the worker writes, and run
operator commands with the same environment file the services use.

Run by `make test-production` (which brings the shape up and down); not part of `make test`."""
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
RUN = Path(os.environ.get("PROD_LOCAL_DIR", ROOT / "instance" / "prod-local"))
BASE = f"https://127.0.0.1:{os.environ.get('PROD_LOCAL_HTTPS_PORT', '8443')}"
CODE = re.compile(r"验证码(\d{6})")


def staging_env() -> dict:
    env = dict(os.environ)
    for line in (RUN / "staging.env").read_text().splitlines():
        name, _, value = line.partition("=")
        if name and not name.startswith("#"):
            env[name] = value.strip('"')
    return env


@pytest.fixture(scope="session")
def shape():
    if not (RUN / "staging.env").exists():
        pytest.fail("the production shape is not up: run `make prod-local` (or `make "
                    "test-production`)")
    env = staging_env()
    try:
        Browser().get("/healthz").raise_for_status()
    except requests.RequestException as error:
        pytest.fail(f"nginx does not answer on {BASE}: {error}")
    return env


def flask(env, *args) -> str:
    """An operator command, with the services' own environment."""
    result = subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", *args],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


class Browser:
    """One person's HTTPS session through nginx: cookies, the CSRF token of the last page."""

    def __init__(self):
        self.http = requests.Session()
        self.http.trust_env = False  # no proxy, and no CA bundle from the environment
        self.http.verify = str(RUN / "tls" / "cert.pem")
        self.token = None

    def get(self, path, **kwargs):
        response = self.http.get(BASE + path, timeout=30, **kwargs)
        found = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
        if found:
            self.token = found.group(1)
        return response

    def post(self, path, data=None, files=None, headers=None, **kwargs):
        if self.token is None:
            self.get(path)
        fields = dict(data or {}, csrf_token=self.token)
        # A browser sends the page it posts from; over HTTPS Flask-WTF insists on it.
        headers = {"Referer": BASE + path, **(headers or {})}
        return self.http.post(BASE + path, data=fields, files=files, headers=headers,
                              timeout=60, allow_redirects=False, **kwargs)


def outbox(env) -> list[dict]:
    path = Path(env["SMS_OUTBOX"])
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def wait_for_sms(env, phone, containing="", seconds=30, after=0) -> dict:
    """The newest message to `phone` the worker delivered (it runs the delivery job), among the
    messages after the first `after` ones."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for message in reversed(outbox(env)[after:]):
            if message["to"] == phone and containing in message["body"]:
                return message
        time.sleep(0.2)
    raise AssertionError(f"no SMS to {phone} containing {containing!r} within {seconds} s")


@pytest.fixture
def visitor():
    return Browser()
