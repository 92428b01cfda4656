#!/usr/bin/env python3
"""The pages people hit at the deadline, as ratios to a bare Flask app measured in the same run.

Both apps run under gunicorn with the production settings (deploy/gunicorn.conf.py, gthread,
WEB_CONCURRENCY=2) on PostgreSQL; wrk loads each page for --seconds with the session cookie of
a logged-in person (an applicant with a half-filled collection; a county reviewer with
--applications pending applications). Prints req/s, median latency, the ratio to "hello" and
the target, and the SQL statements each page issues (counted in-process). Asserts nothing.

    .venv/bin/python bench/pages_bench.py [--seconds 10] [--applications 500]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/kjxx_pages]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import sqlalchemy as sa  # noqa: E402
from bench_db import fresh_database  # noqa: E402
from http_bench import (  # noqa: E402
    HOST,
    Client,
    free_port,
    stop,
    wait_until_serving,
    wrk_duration,
    wrk_time_ms,
)

TARGETS = {"login page": 0.5, "task list": 0.25, "section page": 0.25, "review list": 0.25}
CAPTCHA = "TEST"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--applications", type=int, default=500)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--database-url",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/kjxx_pages")
    return parser.parse_args()


def log(message):
    print(f"[pages] {message}", flush=True)


def server_env(database_url: str, port: int, workdir: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("REDIS", "RATELIMIT", "TEST_", "JOB_"))}
    env.update({"APP_ENV": "development", "DATABASE_URL": database_url,
                "SECRET_KEY": "pages-bench-secret-key-not-for-production-use",
                "CAPTCHA_TEST_ANSWER": CAPTCHA, "LOGIN_IP_LIMIT": "100000 per minute",
                "SMS_BACKEND": "outbox", "SMS_OUTBOX": str(workdir / "outbox.jsonl"),
                "BIND": f"{HOST}:{port}", "WEB_CONCURRENCY": "2",
                "GUNICORN_ACCESS_LOG": "/dev/null", "GUNICORN_ERROR_LOG": "-"})
    return env


def prepare(database_url: str, applications: int):
    """A fresh database with regions, one applicant with two sections saved, and a county
    reviewer with `applications` pending ones. Returns (applicant, reviewer) logins."""
    fresh_database(database_url)
    os.environ["DATABASE_URL"] = database_url
    # staff confirm their login with an SMS code: the in-process logins read it from an outbox
    os.environ.update(SMS_BACKEND="outbox",
                      SMS_OUTBOX=str(Path(tempfile.gettempdir()) / "pages-bench-outbox.jsonl"))
    from app import create_app
    from tests import factories
    app = create_app()
    applicant = factories.make_application(app, status="draft", complete=False)
    reviewer = factories.make_staff(app)
    factories.make_applications(app, applications, pairs=False)
    return app, applicant, reviewer


def log_in(port: int, person, outbox: Path) -> str:
    """Log in over HTTP (staff also type the code the app's job thread puts in the outbox);
    return the session cookie."""
    client = Client(port)
    status, headers, body, _ = client.request("GET", "/login")
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    token = re.search(rb'name="csrf_token" value="([^"]+)"', body).group(1).decode()
    form = urlencode({"csrf_token": token, "id_number": person.id_number,
                      "password": person.password, "captcha": CAPTCHA})
    status, headers, body, _ = client.request(
        "POST", "/login", body=form, headers={"Cookie": cookie, "Content-Type":
                                              "application/x-www-form-urlencoded"})
    assert status == 303, body[-500:]
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    if headers["Location"].endswith("/login/verify"):
        status, headers, body, _ = client.request("GET", "/login/verify",
                                                  headers={"Cookie": cookie})
        cookie = headers.get("Set-Cookie", cookie).split(";", 1)[0]
        token = re.search(rb'name="csrf_token" value="([^"]+)"', body).group(1).decode()
        form = urlencode({"csrf_token": token, "sms_code": code_in(outbox, person.phone)})
        status, headers, body, _ = client.request(
            "POST", "/login/verify", body=form, headers={
                "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
        assert status == 303, body[-500:]
        cookie = headers["Set-Cookie"].split(";", 1)[0]
    # The first page after a login puts a new CSRF token in the session: take that cookie, as a
    # browser would (wrk replays one cookie; a stale one would make every request rewrite it).
    status, headers, body, _ = client.request("GET", "/home", headers={"Cookie": cookie})
    status, headers, body, _ = client.request("GET", headers["Location"],
                                              headers={"Cookie": cookie})
    assert status == 200, (headers, body[-500:])
    fresh = headers.get("Set-Cookie")
    return fresh.split(";", 1)[0] if fresh else cookie


def code_in(outbox: Path, phone: str, wait: float = 20.0) -> str:
    """The newest code sent to `phone`, waiting for the job that sends it."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if outbox.exists():
            for line in reversed(outbox.read_text(encoding="utf-8").splitlines()):
                message = json.loads(line)
                found = re.search(r"\d{6}", message["body"])
                if message["to"] == phone and found:
                    return found.group(0)
        time.sleep(0.2)
    raise RuntimeError(f"no code reached {outbox} for {phone}")


def wrk(port: int, path: str, seconds: float, connections: int, cookie: str | None):
    command = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(command + [f"http://{HOST}:{port}{path}"], capture_output=True,
                            text=True, check=True, timeout=seconds + 60).stdout
    summary = re.search(r"(\d+) requests in ([\d.]+)(\w+)", output)
    rate = int(summary.group(1)) / wrk_duration(summary)
    median = wrk_time_ms(re.search(r"^\s*50%\s+([\d.]+)(\w+)", output, re.M).groups())
    bad = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    return rate, median, bad


class Server:
    def __init__(self, app_spec, cwd, env, port, logfile, production=True):
        command = [str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "deploy/gunicorn.conf.py"),
                   app_spec]
        if not production:  # the baseline: plain `gunicorn -w 2` (sync workers)
            command = [str(ROOT / ".venv/bin/gunicorn"), "-w", "2", "-b", f"{HOST}:{port}",
                       app_spec]
        self.port = port
        with open(logfile, "ab") as out:
            self.process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=out,
                                            start_new_session=True)
        wait_until_serving(port, self.process, logfile)

    def close(self):
        stop(self.process)


def statements_per_page(app, applicant, reviewer, pages) -> dict[str, int]:
    """SQL statements each page issues, counted in-process with the same data."""
    from extensions import db
    from tests.factories import log_in as test_log_in
    counted = {}
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)
    clients = {"applicant": app.test_client(), "reviewer": app.test_client(),
               None: app.test_client()}
    app.config.update(WTF_CSRF_ENABLED=False, CAPTCHA_TEST_ANSWER=CAPTCHA)
    test_log_in(clients["applicant"], applicant)
    test_log_in(clients["reviewer"], reviewer)
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    for name, path, who in pages:
        clients[who].get(path)
        statements.clear()
        clients[who].get(path)
        counted[name] = len(statements)
    sa.event.remove(engine, "before_cursor_execute", count)
    return counted


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main():
    args = parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("needs wrk: apt-get install wrk")
    log(f"load average {load_average()}; preparing {args.applications} applications")
    app, applicant, reviewer = prepare(args.database_url, args.applications)
    pages = [("login page", "/login", None), ("task list", "/collection", "applicant"),
             ("section page", "/collection/work", "applicant"),
             ("review list", "/review", "reviewer")]
    statements = statements_per_page(app, applicant, reviewer, pages)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        results = {}
        for label, production in (("hello", True), ("hello -w 2 sync", False)):
            port = free_port()
            hello = Server("hello_app:app", ROOT / "bench", server_env(
                args.database_url, port, workdir), port, workdir / "hello.log", production)
            try:
                wrk(port, "/", 2, args.connections, None)
                results[label] = wrk(port, "/", args.seconds, args.connections, None)
            finally:
                hello.close()
        port = free_port()
        server = Server("wsgi:app", ROOT, server_env(args.database_url, port, workdir), port,
                        workdir / "app.log")
        try:
            outbox = workdir / "outbox.jsonl"
            cookies = {"applicant": log_in(port, applicant, outbox),
                       "reviewer": log_in(port, reviewer, outbox), None: None}
            for name, path, who in pages:
                wrk(port, path, 2, args.connections, cookies[who])  # warm-up
                results[name] = wrk(port, path, args.seconds, args.connections, cookies[who])
        finally:
            server.close()
    hello_rate, sync_rate = results["hello"][0], results["hello -w 2 sync"][0]
    print(f"\n{'page':16} {'req/s':>8} {'median ms':>10} {'non-2xx':>8} {'× hello':>8} "
          f"{'× sync':>7} {'target':>7} {'SQL/request':>12}")
    for name, (rate, median, bad) in results.items():
        target = TARGETS.get(name)
        print(f"{name:16} {rate:8.0f} {median:10.2f} {bad:8d} {rate / hello_rate:8.2f} "
              f"{rate / sync_rate:7.2f} {'≥' + str(target) if target else '':>7} "
              f"{statements.get(name, ''):>12}")
    print("× hello: against the bare app under the same production settings (gthread, "
          "keep-alive);\n× sync: against `gunicorn -w 2 hello_app:app` (sync workers, no "
          "keep-alive), the baseline the targets were set against.")
    log(f"load average {load_average()}; gunicorn -c deploy/gunicorn.conf.py "
        f"(WEB_CONCURRENCY=2), wrk -t2 -c{args.connections}, {args.seconds:.0f} s per page")


if __name__ == "__main__":
    main()
