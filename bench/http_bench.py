#!/usr/bin/env python3
"""HTTP benchmark of the login page, registration, password hashing, memory and page weight.

Prints numbers beside their targets; asserts nothing. Everything runs on 127.0.0.1: the script
starts its own gunicorn servers (`-w 2`, sync workers) on free ports, uses a throw-away SQLite
database (or --database-url), and stops and removes everything it made.

    .venv/bin/python bench/http_bench.py [--seconds 10] [--database-url URL]

Phases:
  1. argon2id hash time in this process (production parameters, domain.passwords.Hasher);
  2. GET / on a bare Flask "hello" app, then on the real app (wrk, or Python threads without it);
  3. the login page with its CSS and JS, each gzipped at level 6;
  4. registration: codes are sent in an untimed preparation phase (one cookie session, CSRF
     token and client address per applicant; codes read from the SMS outbox), then only the
     final POST /register is timed; success is a 303 redirect;
  5. the resident memory (VmRSS) of the app's gunicorn workers after all that load.
"""
import argparse
import gzip
import http.client
import json
import os
import queue
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
sys.path.insert(0, str(ROOT))

from stdnum.cn import ric  # noqa: E402

from domain.passwords import Hasher  # noqa: E402

HOST = "127.0.0.1"
WORKERS = 2
WRK_THREADS = 2
WRK_CONNECTIONS = 16
ARGON2 = {"memory_cost": 19456, "time_cost": 2, "parallelism": 1}  # production defaults
PASSWORD = "Yunnan#2026kj"
CAPTCHA = "TEST"
CODE_RE = re.compile(r"验证码(\d{6})")
PROVINCES = ["11", "31", "32", "33", "44", "50", "51", "52", "53", "61"]


# ---------------------------------------------------------------- command line

def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10,
                        help="duration of each timed load phase (default 10)")
    parser.add_argument("--database-url",
                        help="e.g. postgresql+psycopg://postgres@127.0.0.1:5432/bench "
                             "(default: a temporary SQLite file)")
    parser.add_argument("--post-concurrency", type=int, default=4,
                        help="client threads for the register POST (default 4)")
    parser.add_argument("--registrations", type=int, default=None,
                        help="applicants prepared (default 50 per second of --seconds)")
    parser.add_argument("--hash-rounds", type=int, default=20,
                        help="argon2 hashes timed in-process (default 20)")
    return parser.parse_args()


# ---------------------------------------------------------------- small helpers

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def median_ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000 if seconds else float("nan")


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


class Client:
    """One HTTP connection to 127.0.0.1:port. Gunicorn's sync workers close every connection,
    so http.client reopens it on the next request; a server that keeps it alive is reused."""

    def __init__(self, port: int, timeout: float = 60):
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout)

    def request(self, method, path, body=None, headers=None):
        """Return (status, headers, body bytes, seconds)."""
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            raise
        elapsed = time.perf_counter() - started
        if response.will_close:
            self.conn.close()
        return response.status, response.headers, data, elapsed

    def close(self):
        self.conn.close()


class PageParser(HTMLParser):
    """The CSRF token, stylesheets and scripts of a page."""

    def __init__(self):
        super().__init__()
        self.csrf_token = None
        self.assets = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name") == "csrf_token":
            self.csrf_token = attrs.get("value")
        elif tag == "link" and "stylesheet" in (attrs.get("rel") or "").split() \
                and attrs.get("href"):
            self.assets.append(attrs["href"])
        elif tag == "script" and attrs.get("src"):
            self.assets.append(attrs["src"])


def parse_page(html: bytes) -> PageParser:
    parser = PageParser()
    parser.feed(html.decode("utf-8", errors="replace"))
    return parser


# ---------------------------------------------------------------- servers

def server_env(database_url: str, outbox: Path) -> dict:
    env = dict(os.environ)
    env.update({
        "APP_ENV": "development",
        "DATABASE_URL": database_url,
        "SMS_BACKEND": "outbox",
        "SMS_OUTBOX": str(outbox),
        "CAPTCHA_TEST_ANSWER": CAPTCHA,
        "SMS_PHONE_LIMITS": "100 per minute",
        "SMS_IP_LIMITS": "100000 per hour",
        "SMS_DAILY_BUDGET": "100000000",
        "LOGIN_IP_LIMIT": "100000 per minute",
        "ARGON2_MEMORY_COST": str(ARGON2["memory_cost"]),
        "ARGON2_TIME_COST": str(ARGON2["time_cost"]),
        "ARGON2_PARALLELISM": str(ARGON2["parallelism"]),
        # One proxy hop trusted, so each applicant can come from its own X-Forwarded-For
        # address, as real applicants behind nginx do (POST /register allows 30/hour/address).
        "TRUST_PROXY": "1",
    })
    env.pop("RATELIMIT_STORAGE_URI", None)  # memory:// : nothing shared outside this run
    return env


def prepare_database(env: dict) -> None:
    for command in (["db", "upgrade"], ["regions", "load"]):
        result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *command],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            sys.stderr.write(result.stdout + result.stderr)
            raise SystemExit(f"flask {' '.join(command)} failed")
        log(f"flask {' '.join(command)}: ok {result.stdout.strip()}")


@contextmanager
def gunicorn(app_spec: str, cwd: Path, env: dict, logfile: Path):
    """Start `gunicorn -w 2 -b 127.0.0.1:PORT app_spec`, yield (port, master pid), SIGTERM it."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-w", str(WORKERS), "-b", f"{HOST}:{port}",
               app_spec]
    with open(logfile, "ab") as log_out:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log_out, stderr=log_out,
                                   start_new_session=True)
    try:
        wait_until_serving(port, process, logfile)
        yield port, process.pid
    finally:
        stop(process)


def wait_until_serving(port: int, process, logfile: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            status, _headers, _body, _secs = Client(port, timeout=5).request("GET", "/")
            if status == 200 and len(worker_pids(process.pid)) == WORKERS:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.stderr.write(logfile.read_text(errors="replace")[-4000:])
    raise SystemExit(f"gunicorn on port {port} did not start")


def stop(process, timeout: float = 30) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and proc_field(int(entry.name), "PPid") == str(master):
            pids.append(int(entry.name))
    return sorted(pids)


def proc_field(pid: int, name: str) -> str | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key == name:
                return value.strip()
    except OSError:
        return None
    return None


def worker_memory_mb(master: int) -> dict[int, tuple[float, float]]:
    """{worker pid: (VmRSS MB, VmHWM MB)}."""
    def mb(value):
        return int(value.split()[0]) / 1024 if value else float("nan")
    return {pid: (mb(proc_field(pid, "VmRSS")), mb(proc_field(pid, "VmHWM")))
            for pid in worker_pids(master)}


# ---------------------------------------------------------------- GET throughput

@dataclass
class LoadResult:
    requests: int
    seconds: float
    median_ms: float
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def get_load(port: int, seconds: float, path: str = "/") -> LoadResult:
    if shutil.which("wrk"):
        return wrk_load(port, seconds, path)
    return python_get_load(port, seconds, path)


def wrk_load(port: int, seconds: float, path: str) -> LoadResult:
    command = ["wrk", f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{max(1, round(seconds))}s",
               "--latency", f"http://{HOST}:{port}{path}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True,
                            timeout=seconds + 60).stdout
    summary = re.search(r"(\d+) requests in ([\d.]+)(\w+)", output)
    requests, elapsed = int(summary.group(1)), wrk_duration(summary)
    median = wrk_time_ms(re.search(r"^\s*50%\s+([\d.]+)(\w+)", output, re.M).groups())
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket_errors = re.search(r"Socket errors: (.*)", output)
    if socket_errors:
        log(f"wrk socket errors: {socket_errors.group(1)}")
    return LoadResult(requests, elapsed, median, errors)


def wrk_time_ms(parts) -> float:
    value, unit = float(parts[0]), parts[1]
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk_duration(match) -> float:
    value, unit = float(match.group(2)), match.group(3)
    return value * {"ms": 0.001, "s": 1.0, "m": 60.0}[unit]


def python_get_load(port: int, seconds: float, path: str) -> LoadResult:
    """Fallback without wrk: WRK_CONNECTIONS threads doing GET path until the deadline."""
    deadline = time.monotonic() + seconds
    latencies, errors = [], []

    def run():
        client = Client(port)
        while time.monotonic() < deadline:
            status, _h, _b, elapsed = client.request("GET", path)
            latencies.append(elapsed)
            if status >= 400:
                errors.append(status)
        client.close()

    started = time.monotonic()
    run_threads(run, WRK_CONNECTIONS)
    return LoadResult(len(latencies), time.monotonic() - started, median_ms(latencies),
                      len(errors))


def run_threads(target, count: int) -> None:
    threads = [threading.Thread(target=target, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def measure_get(name: str, port: int, seconds: float, path: str = "/") -> LoadResult:
    get_load(port, min(2.0, seconds / 5), path)  # warm-up: imports, templates, connections
    result = get_load(port, seconds, path)
    log(f"{name}: {result.rate:.0f} req/s, median {result.median_ms:.2f} ms, "
        f"{result.requests} requests, {result.errors} errors")
    return result


# ---------------------------------------------------------------- page weight

def page_weight(port: int) -> tuple[float, list[tuple[str, int, int]]]:
    """Gzipped KB of / plus every stylesheet and script it references, and the rows."""
    client = Client(port)
    status, _h, html, _s = client.request("GET", "/")
    rows = [("/", len(html), len(gzip.compress(html, 6)))]
    for href in parse_page(html).assets:
        path = urlsplit(urljoin(f"http://{HOST}:{port}/", href))
        status, _h, body, _s = client.request("GET", path.path + (f"?{path.query}" if path.query
                                                                  else ""))
        if status != 200:
            log(f"asset {href}: HTTP {status}")
        rows.append((href, len(body), len(gzip.compress(body, 6))))
    client.close()
    for name, raw, packed in rows:
        log(f"  {name}: {raw / 1024:.1f} KB raw, {packed / 1024:.1f} KB gzip")
    return sum(packed for _n, _r, packed in rows) / 1024, rows


# ---------------------------------------------------------------- registration

@dataclass
class Applicant:
    id_number: str
    phone: str
    ip: str
    cookies: dict = field(default_factory=dict)
    csrf_token: str = ""
    sms_code: str = ""

    def headers(self, form: bool = False) -> dict:
        headers = {"X-Forwarded-For": self.ip}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if form:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return headers

    def keep_cookies(self, headers) -> None:
        for value in headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(value)
            self.cookies.update({key: morsel.value for key, morsel in cookie.items()})


def make_id(body17: str) -> str:
    """A GB 11643 number: 17 digits and their check digit."""
    return body17 + ric.calc_check_digit(body17 + "0")


def make_applicants(count: int) -> list[Applicant]:
    """Distinct, valid, random identities (random so runs against one database do not clash)."""
    rng = random.Random(os.urandom(16))
    first_day, days = date(1950, 1, 1), (date(2005, 12, 31) - date(1950, 1, 1)).days
    ids, phones = set(), set()
    while len(ids) < count:
        born = first_day + timedelta(days=rng.randrange(days))
        region = rng.choice(PROVINCES) + f"{rng.randrange(10000):04d}"
        ids.add(make_id(f"{region}{born:%Y%m%d}{rng.randrange(1000):03d}"))
    while len(phones) < count:
        phones.add(f"1{rng.choice('3456789')}{rng.randrange(10 ** 9):09d}")
    return [Applicant(id_number, phone, f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}")
            for i, (id_number, phone) in enumerate(zip(sorted(ids), sorted(phones), strict=True), start=1)]


def send_code(client: Client, applicant: Applicant) -> int:
    """GET /register for a session and token, then POST /register/send-code. Returns the
    status."""
    status, headers, html, _s = client.request("GET", "/register", headers=applicant.headers())
    applicant.keep_cookies(headers)
    applicant.csrf_token = parse_page(html).csrf_token or ""
    body = urlencode({"csrf_token": applicant.csrf_token, "phone": applicant.phone,
                      "captcha": CAPTCHA})
    status, headers, _html, _s = client.request("POST", "/register/send-code", body,
                                                applicant.headers(form=True))
    applicant.keep_cookies(headers)
    return status


def prepare_applicants(port: int, applicants: list[Applicant], outbox: Path,
                       threads: int) -> list[Applicant]:
    """Send every applicant a code (untimed) and read the codes from the outbox."""
    work = queue.Queue()
    for applicant in applicants:
        work.put(applicant)
    statuses = []

    def run():
        client = Client(port)
        while True:
            try:
                applicant = work.get_nowait()
            except queue.Empty:
                break
            statuses.append(send_code(client, applicant))
        client.close()

    started = time.monotonic()
    run_threads(run, threads)
    codes = read_codes(outbox)
    for applicant in applicants:
        applicant.sms_code = codes.get(applicant.phone, "")
    ready = [a for a in applicants if a.sms_code and a.csrf_token]
    log(f"prepared {len(ready)}/{len(applicants)} applicants in "
        f"{time.monotonic() - started:.1f} s (send_code statuses: {count_by(statuses)})")
    return ready


def read_codes(outbox: Path) -> dict[str, str]:
    codes = {}
    if outbox.exists():
        for line in outbox.read_text(encoding="utf-8").splitlines():
            if line.strip():
                message = json.loads(line)
                found = CODE_RE.search(message["body"])
                if found:
                    codes[message["to"]] = found.group(1)
    return codes


def count_by(values) -> dict:
    counts = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


def registration_body(applicant: Applicant) -> str:
    return urlencode({
        "csrf_token": applicant.csrf_token, "id_type": "居民身份证",
        "id_number": applicant.id_number, "name": "张三", "phone": applicant.phone,
        "captcha": CAPTCHA, "sms_code": applicant.sms_code, "password": PASSWORD,
        "password2": PASSWORD, "consent": "y", "action": "register",
    })


@dataclass
class Outcome:
    status: int
    seconds: float
    location: str
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 303 and "/register" not in self.location


def register_load(port: int, applicants: list[Applicant], seconds: float,
                  concurrency: int) -> tuple[list[Outcome], float]:
    """Timed phase: only the final POST /register, until the applicants or the time run out."""
    work = queue.Queue()
    for applicant in applicants:
        work.put(applicant)
    outcomes = []
    deadline = time.monotonic() + seconds

    def run():
        client = Client(port)
        while time.monotonic() < deadline:
            try:
                applicant = work.get_nowait()
            except queue.Empty:
                break
            outcomes.append(post_registration(client, applicant))
        client.close()

    started = time.monotonic()
    run_threads(run, concurrency)
    return outcomes, time.monotonic() - started


def post_registration(client: Client, applicant: Applicant) -> Outcome:
    status, headers, html, elapsed = client.request(
        "POST", "/register", registration_body(applicant), applicant.headers(form=True))
    outcome = Outcome(status, elapsed, headers.get("Location", ""))
    if not outcome.ok:
        errors = re.findall(r'class="field__error"[^>]*>(.*?)</p>', html.decode(errors="replace"))
        outcome.detail = re.sub(r"<[^>]+>", "", "; ".join(errors))[:200]
    return outcome


def measure_registration(port: int, outbox: Path, args) -> dict:
    count = args.registrations or max(20, int(50 * args.seconds))
    applicants = prepare_applicants(port, make_applicants(count), outbox, args.post_concurrency)
    outcomes, elapsed = register_load(port, applicants, args.seconds, args.post_concurrency)
    good = [o for o in outcomes if o.ok]
    for bad in [o for o in outcomes if not o.ok][:3]:
        log(f"register failed: HTTP {bad.status} {bad.location} {bad.detail}")
    result = {"attempted": len(outcomes), "ok": len(good), "seconds": elapsed,
              "rate": len(good) / elapsed if elapsed else 0.0,
              "median_ms": median_ms([o.seconds for o in good]),
              "statuses": count_by(o.status for o in outcomes)}
    log(f"register: {result['ok']}/{result['attempted']} succeeded in {elapsed:.1f} s, "
        f"{result['rate']:.1f}/s, median {result['median_ms']:.0f} ms, "
        f"statuses {result['statuses']}")
    return result


# ---------------------------------------------------------------- argon2

def measure_hash(rounds: int) -> float:
    hasher = Hasher(**ARGON2)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        hasher.hash(PASSWORD)
        times.append(time.perf_counter() - started)
    result = median_ms(times)
    log(f"argon2id m={ARGON2['memory_cost']} KiB t={ARGON2['time_cost']} "
        f"p={ARGON2['parallelism']}: median {result:.1f} ms over {rounds} hashes")
    return result


# ---------------------------------------------------------------- report

HEADER = ("metric", "value", "target", "met")


def print_table(rows) -> None:
    """rows: (metric, value text, target text, met: True/False/None)."""
    marks = {True: "yes", False: "NO", None: ""}
    widths = [max(len(str(row[i])) for row in rows + [HEADER]) for i in range(3)]
    print()
    for row in [HEADER] + rows:
        mark = row[3] if row is HEADER else marks[row[3]]
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row[:3], widths, strict=False)),
              mark)


def summary_rows(hello, login, healthz, reg, hash_ms, memory, weight_kb) -> list:
    ratio = login.rate / hello.rate if hello.rate else float("nan")
    rss = max((rss for rss, _hwm in memory.values()), default=float("nan"))
    hwm = max((hwm for _rss, hwm in memory.values()), default=float("nan"))
    return [
        ("hello GET / throughput (req/s)", f"{hello.rate:.0f}", "", None),
        ("hello GET / median latency (ms)", f"{hello.median_ms:.2f}", "", None),
        ("login GET / throughput (req/s)", f"{login.rate:.0f}", "", None),
        ("login GET / median latency (ms)", f"{login.median_ms:.2f}", "", None),
        ("login / hello throughput ratio", f"{ratio:.2f}", ">= 0.5", ratio >= 0.5),
        ("(diagnostic) app GET /healthz (req/s)", f"{healthz.rate:.0f}", "", None),
        ("register POST throughput (req/s)", f"{reg['rate']:.1f}", ">= 25", reg["rate"] >= 25),
        ("register POST median latency (ms)", f"{reg['median_ms']:.0f}", "", None),
        ("register POST succeeded / attempted", f"{reg['ok']}/{reg['attempted']}", "all",
         reg["ok"] == reg["attempted"] and reg["ok"] > 0),
        ("argon2id hash median (ms)", f"{hash_ms:.1f}", "", None),
        ("worker VmRSS after load, max (MB)", f"{rss:.1f}", "<= 150", rss <= 150),
        ("worker VmHWM (peak RSS), max (MB)", f"{hwm:.1f}", "", None),
        ("login page + CSS + JS, gzip -6 (KB)", f"{weight_kb:.1f}", "<= 35", weight_kb <= 35),
    ]


# ---------------------------------------------------------------- main

def main() -> None:
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="kjxx-bench-"))
    try:
        run(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run(args, workdir: Path) -> None:
    database_url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    outbox = workdir / "outbox.jsonl"
    env = server_env(database_url, outbox)
    log(f"database {redact(database_url)}; load generator: "
        f"{'wrk' if shutil.which('wrk') else 'Python threads'}; "
        f"{args.seconds:g} s per phase; {os.cpu_count()} CPUs")
    one, five, _fifteen = os.getloadavg()
    log(f"load average before the run: {one:.2f} (1 min), {five:.2f} (5 min); "
        "other work on the machine skews every number")

    hash_ms = measure_hash(args.hash_rounds)
    prepare_database(env)

    with gunicorn("hello_app:app", BENCH_DIR, env, workdir / "hello.log") as (port, _pid):
        hello = measure_get("hello GET /", port, args.seconds)

    with gunicorn("wsgi:app", ROOT, env, workdir / "app.log") as (port, master):
        weight_kb, _rows = page_weight(port)
        login = measure_get("login GET /", port, args.seconds)
        healthz = measure_get("app GET /healthz", port, args.seconds, "/healthz")
        registration = measure_registration(port, outbox, args)
        memory = worker_memory_mb(master)
        for pid, (rss, hwm) in memory.items():
            log(f"worker {pid}: VmRSS {rss:.1f} MB, VmHWM {hwm:.1f} MB")

    print_table(summary_rows(hello, login, healthz, registration, hash_ms, memory, weight_kb))


def redact(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]+@", r"//\1:***@", url)


if __name__ == "__main__":
    main()
