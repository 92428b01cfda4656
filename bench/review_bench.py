#!/usr/bin/env python3
"""Benchmark of the reviewer's list (审核列表) and its Excel export on PostgreSQL, with 500,000
applications. Prints numbers beside their targets; asserts nothing.

    .venv/bin/python bench/review_bench.py [--database-url URL] [--requests 50]
                                           [--applicants 500000] [--reseed]

Everything stays on 127.0.0.1. Steps:
  1. The database (default kjxx_bench on 127.0.0.1): created if missing; if it holds fewer
     applications than --applicants (or with --reseed) it is rebuilt: `flask db upgrade`,
     `flask regions load`, `flask demo seed --applicants N` (timed), then VACUUM ANALYZE.
     A database that already holds enough applications is only migrated and reused.
  2. The app runs as `python -m gunicorn -w 2 -b 127.0.0.1:PORT wsgi:app` (development config,
     DATABASE_URL set, CAPTCHA_TEST_ANSWER=TEST); the script logs in as the demo reviewers of the
     province, a prefecture and a county (captcha TEST, CSRF token scraped from the form).
  3. Each scenario: 3 untimed warm-up requests, then --requests sequential GETs on one
     requests.Session, timed around the whole HTTP request (connect, app, body read).
     (a) first page of 待审核; (b) county + date range, and a search by full ID number;
     (c) the page reached by following the 下一页 (`after`) cursor --deep-pages times.
  4. Export of about 10,000 rows (the prefecture and tab whose row count is nearest 10,000;
     with the demo data, 普洱市's 审核成功 rows): seconds to the last byte and the serving
     gunicorn worker's peak RSS
     (VmHWM after resetting it through /proc/PID/clear_refs), plus the same export run
     in-process in a child Python under tracemalloc (Python heap peak) and ru_maxrss.
  5. For every scenario whose p95 misses its target (or all, with --explain always) the SQL the
     app issues for that page is captured in a child process (SQLAlchemy before_cursor_execute)
     and shown with EXPLAIN (ANALYZE, BUFFERS).
"""
import argparse
import io
import json
import os
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
HOST = "127.0.0.1"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kjxx_bench"
CAPTCHA = "TEST"
TARGETS = {"first": 30.0, "filtered": 50.0, "deep": 50.0}
EXPORT_TARGET_S, EXPORT_TARGET_MB = 5.0, 200.0
EXPORT_ROWS = 10_000
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
NEXT_RE = re.compile(r'href="([^"]*after=[^"]*)"[^>]*>下一页')
COUNT_RE = re.compile(r"共 (\d+)(\+?) 条")
ROW_RE = re.compile(r"<tr>\s*<td>")


def log(*parts):
    print(*parts, flush=True)


def load_line() -> str:
    with open("/proc/loadavg") as f:
        one, five, fifteen = f.read().split()[:3]
    return f"load average {one} {five} {fifteen} on {os.cpu_count()} cores"


def libpq_url(url: str) -> str:
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def with_dbname(url: str, name: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path="/" + name).geturl()


def dbname_of(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def connect(url):
    import psycopg
    return psycopg.connect(libpq_url(url), autocommit=True)


# --------------------------------------------------------------------------------- database

def app_env(database_url: str) -> dict:
    env = dict(os.environ)
    env.pop("APP_ENV", None)  # development config
    env.pop("FLASK_APP", None)
    env.update(DATABASE_URL=database_url, CAPTCHA_TEST_ANSWER=CAPTCHA,
               LOGIN_IP_LIMIT="1000 per minute", PYTHONUNBUFFERED="1")
    return env


def flask_cmd(database_url, *args, echo=True) -> str:
    command = [PYTHON, "-m", "flask", "--app", "wsgi", *args]
    result = subprocess.run(command, cwd=ROOT, env=app_env(database_url), capture_output=True,
                            text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"failed: flask {' '.join(args)}")
    if echo:
        for line in result.stdout.splitlines():
            log("    " + line)
    return result.stdout


def application_count(url) -> int:
    with connect(url) as conn:
        exists = conn.execute("SELECT to_regclass('public.applications')").fetchone()[0]
        if not exists:
            return 0
        return conn.execute("SELECT count(*) FROM applications").fetchone()[0]


def revision_of(url) -> str | None:
    with connect(url) as conn:
        if not conn.execute("SELECT to_regclass('public.alembic_version')").fetchone()[0]:
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None


def prepare_database(url: str, applicants: int, reseed: bool) -> dict:
    name = dbname_of(url)
    admin = with_dbname(url, "postgres")
    with connect(admin) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            log(f"  creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')
    have = application_count(url)
    if have and (reseed or have < applicants):
        # Rebuilt rather than topped up, so that every run measures a database seeded in one
        # go (same data, same physical order) and the printed seed time covers all N.
        log(f"  {name} holds {have} applications; dropping and recreating it"
            f"{' (--reseed)' if reseed else ''}")
        with connect(admin) as conn:
            conn.execute(f'DROP DATABASE "{name}"')  # fails (no FORCE) if someone is connected
            conn.execute(f'CREATE DATABASE "{name}"')
        have = 0
    before = revision_of(url)
    flask_cmd(url, "db", "upgrade", echo=False)
    after = revision_of(url)
    log(f"  flask db upgrade: {before or 'empty'} -> {after}")
    info = {"seeded": False}
    if have >= applicants:
        log(f"  reusing {name}: {have} applications already there (--reseed to rebuild)")
        if before != after:
            with connect(url) as conn:
                conn.execute("VACUUM (ANALYZE) applications")  # new indexes: fresh statistics
            log("  new migration applied: VACUUM (ANALYZE) applications")
        return info
    log("  flask regions load")
    flask_cmd(url, "regions", "load")
    log(f"  flask demo seed --applicants {applicants}")
    started = time.perf_counter()
    output = flask_cmd(url, "demo", "seed", "--applicants", str(applicants), echo=False)
    seconds = time.perf_counter() - started
    lines = output.splitlines()
    for line in lines[:2]:
        log("    " + line)
    staff_lines = [l for l in lines if "log in with ID" in l]
    log(f"    ... {len(staff_lines)} staff lines (login IDs), first: "
        f"{staff_lines[0].strip() if staff_lines else '-'}")
    log(f"  seed wall time (incl. flask start-up): {seconds:.1f} s   (target: a few minutes)")
    started = time.perf_counter()
    with connect(url) as conn:
        conn.execute("VACUUM (ANALYZE) applications")
        conn.execute("VACUUM (ANALYZE) accounts")
        conn.execute("VACUUM (ANALYZE) application_sections")
        conn.execute("ANALYZE")
    log(f"  VACUUM (ANALYZE) + ANALYZE: {time.perf_counter() - started:.1f} s")
    info.update(seeded=True, seed_seconds=seconds)
    return info


def pick_subjects(url: str) -> dict:
    """Which reviewers, county, dates, ID number and export filter the scenarios use."""
    from domain.demo import DEMO_PASSWORD
    with connect(url) as conn:
        def reviewer(code):
            row = conn.execute(
                "SELECT a.id_number FROM accounts a WHERE a.role = 'reviewer' AND a.region_code = %s"
                " AND a.is_enabled AND NOT a.must_change_password AND NOT a.must_bind_phone"
                " ORDER BY a.id LIMIT 1", (code,)).fetchone()
            if row is None:
                raise SystemExit(f"no usable demo reviewer for region {code}")
            return row[0]

        pending = dict(conn.execute(
            "SELECT prefecture_code, count(*) FROM applications WHERE status = 'pending' "
            "GROUP BY prefecture_code").fetchall())
        province = conn.execute("SELECT code FROM regions WHERE level = 'province'").fetchone()[0]
        big_prefecture = max(pending, key=pending.get)  # the busiest prefecture
        county = conn.execute(
            "SELECT code FROM regions WHERE parent_code = %s AND level = 'county' ORDER BY code "
            "LIMIT 1", (big_prefecture,)).fetchone()[0]
        # The export: the (prefecture, tab) whose row count is nearest EXPORT_ROWS.
        tabs = conn.execute(
            "SELECT prefecture_code, status, count(*) FROM applications WHERE status <> 'draft' "
            "GROUP BY prefecture_code, status").fetchall()
        export_prefecture, export_status, export_expected = min(
            tabs, key=lambda row: (abs(row[2] - EXPORT_ROWS), row[1] != "pending", row[0]))
        names = dict(conn.execute("SELECT code, name FROM regions").fetchall())
        # A pending application in that county, for the search by full ID number.
        county_pending = conn.execute(
            "SELECT count(*) FROM applications WHERE jurisdiction_code = %s AND status = 'pending'",
            (county,)).fetchone()[0]
        id_number = conn.execute(
            "SELECT ac.id_number FROM applications ap JOIN accounts ac ON ac.id = ap.account_id "
            "WHERE ap.jurisdiction_code = %s AND ap.status = 'pending' ORDER BY ap.id "
            "OFFSET %s LIMIT 1", (county, county_pending // 2)).fetchone()[0]
        latest = conn.execute("SELECT max(submitted_at) FROM applications").fetchone()[0]
        date_to = (latest + timedelta(hours=8)).date() - timedelta(days=21)
        date_from = date_to - timedelta(days=9)  # ten local days
        return {
            "password": DEMO_PASSWORD,
            "province": province, "prefecture": big_prefecture, "county": county,
            "reviewers": {"province": reviewer(province), "prefecture": reviewer(big_prefecture),
                          "county": reviewer(county),
                          "export": reviewer(export_prefecture)},
            "names": names, "pending": pending, "county_pending": county_pending,
            "export_prefecture": export_prefecture, "export_status": export_status,
            "export_expected": export_expected,
            "id_number": id_number, "date_from": date_from.isoformat(),
            "date_to": date_to.isoformat(),
        }


# ----------------------------------------------------------------------------------- server

def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, database_url: str, logdir: Path):
        self.port = free_port()
        self.log = open(logdir / "gunicorn.log", "wb")
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "-w", "2", "-b", f"{HOST}:{self.port}", "wsgi:app"],
            cwd=ROOT, env=app_env(database_url), stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://{HOST}:{self.port}"

    def wait(self):
        import requests
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit("gunicorn exited; see its log")
            try:
                if requests.get(self.base + "/healthz", timeout=2).status_code == 200 \
                        and len(self.workers()) == 2:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise SystemExit("gunicorn did not start in 60 s")

    def workers(self) -> list[int]:
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                return [int(p) for p in f.read().split()]
        except OSError:
            return []

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def proc_status(pid: int) -> dict:
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024  # MiB
    return values


def cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def reset_peak(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
        return True
    except OSError:
        return False


# ----------------------------------------------------------------------------------- client

def login(base: str, id_number: str, password: str):
    import requests
    session = requests.Session()
    page = session.get(base + "/login", timeout=30)
    token = CSRF_RE.search(page.text)
    if not token:
        raise SystemExit("no csrf_token in the login form")
    response = session.post(base + "/login", data={
        "csrf_token": unescape(token.group(1)), "id_number": id_number, "password": password,
        "captcha": CAPTCHA, "next": ""}, allow_redirects=False, timeout=60)
    if response.status_code not in (302, 303):
        raise SystemExit(f"login as {id_number} failed: HTTP {response.status_code}")
    check = session.get(base + "/review", timeout=30, allow_redirects=False)
    if check.status_code != 200:
        raise SystemExit(f"{id_number} cannot open /review: HTTP {check.status_code}")
    return session


def percentile(values, fraction):
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, int(round(fraction * len(ordered) + 0.5)) - 1))
    return ordered[index]  # nearest rank


def time_get(session, url: str, requests_n: int, warmup: int = 3, headers=None):
    for _ in range(warmup):
        response = session.get(url, timeout=60, headers=headers)
        response.raise_for_status()
    times = []
    for _ in range(requests_n):
        started = time.perf_counter()
        response = session.get(url, timeout=60, headers=headers)
        _body = response.content
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"GET {url}: HTTP {response.status_code}")
    text = response.text
    count = COUNT_RE.search(text)
    return {"median": statistics.median(times), "p95": percentile(times, 0.95),
            "min": min(times), "max": max(times),
            "rows": len(ROW_RE.findall(text)),
            "count": (count.group(1) + count.group(2)) if count else "?"}


def follow_next(session, base: str, path: str, pages: int) -> tuple[str, int]:
    """Follow 下一页 `pages` times from `path`; returns the URL of the page reached and the
    number of pages followed (fewer when the list ends first)."""
    url = path
    followed = 0
    while followed < pages:
        response = session.get(base + url, timeout=60)
        response.raise_for_status()
        match = NEXT_RE.search(response.text)
        if not match:
            break
        url = unescape(match.group(1))
        followed += 1
    return url, followed


def query_of(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


# ------------------------------------------------------------------------- child processes

def child_main(mode: str, spec: dict):
    """Runs inside a child Python with DATABASE_URL set (Config reads it at import)."""
    import sqlalchemy as sa

    from app import create_app
    from domain import review_queue
    from extensions import db
    from models import Region

    app = create_app()
    with app.app_context():
        region = db.session.get(Region, spec["region"])
        list_filter = review_queue.ListFilter(
            status=spec.get("status", "pending"), county=spec.get("county", ""),
            date_from=date.fromisoformat(spec["date_from"]) if spec.get("date_from") else None,
            date_to=date.fromisoformat(spec["date_to"]) if spec.get("date_to") else None,
            query=spec.get("q", ""))
        if mode == "explain":
            statements = []

            @sa.event.listens_for(db.engine, "before_cursor_execute")
            def capture(_conn, _cursor, statement, parameters, _context, _many):
                statements.append((statement, parameters))

            with app.test_request_context():
                review_queue.page(region, list_filter, after=spec.get("after"))
                # the rendering touches only eager-loaded attributes; sections come selectin
            sa.event.remove(db.engine, "before_cursor_execute", capture)
            out = []
            connection = db.session.connection()
            raw = connection.connection.driver_connection
            from psycopg import ClientCursor
            for statement, parameters in statements:
                with raw.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                    plan = "\n".join(r[0] for r in cursor.fetchall())
                rendered = ClientCursor(raw).mogrify(statement, parameters)
                out.append({"sql": rendered, "plan": plan})
            db.session.rollback()
            print(json.dumps(out))
        elif mode == "export":
            import tracemalloc

            from domain.review_workbook import write_workbook
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            rows = 0

            def counted(iterable):
                nonlocal rows
                for item in iterable:
                    rows += 1
                    yield item

            with tempfile.TemporaryFile() as spool:
                with app.test_request_context():
                    started = time.perf_counter()
                    write_workbook(counted(review_queue.all_rows(region, list_filter)), spool)
                    plain_seconds = time.perf_counter() - started
                    spool.seek(0, 2)
                    size = spool.tell()
                maxrss_plain = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                spool.seek(0)
                spool.truncate()
                db.session.expunge_all()
                tracemalloc.start()
                with app.test_request_context():
                    started = time.perf_counter()
                    write_workbook(review_queue.all_rows(region, list_filter), spool)
                    traced_seconds = time.perf_counter() - started
                current, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
            print(json.dumps({
                "rows": rows, "bytes": size, "seconds": plain_seconds,
                "traced_seconds": traced_seconds, "tracemalloc_peak_mb": peak / 2**20,
                "maxrss_before_mb": before, "maxrss_after_mb": maxrss_plain}))


def run_child(database_url: str, mode: str, spec: dict):
    result = subprocess.run([PYTHON, str(Path(__file__).resolve()), "--child", mode,
                             "--child-spec", json.dumps(spec)], cwd=ROOT,
                            env=app_env(database_url), capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stderr[-4000:])
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------ main

def mark(value, target):
    return "ok" if value <= target else "MISSES"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--requests", type=int, default=50, help="timed requests per scenario")
    parser.add_argument("--applicants", type=int, default=500_000)
    parser.add_argument("--reseed", action="store_true", help="drop and seed the database again")
    parser.add_argument("--deep-pages", type=int, default=200)
    parser.add_argument("--export-runs", type=int, default=3)
    parser.add_argument("--explain", choices=("auto", "always", "never"), default="auto",
                        help="EXPLAIN (ANALYZE, BUFFERS) the SQL of scenarios that miss (auto)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-spec", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child_main(args.child, json.loads(args.child_spec))
    if urlsplit(libpq_url(args.database_url)).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("the benchmark only talks to 127.0.0.1")

    import requests  # noqa: F401  (fail early if missing)

    log(f"review list benchmark, {datetime.now():%Y-%m-%d %H:%M:%S}")
    log(f"  at start: {load_line()}")
    log(f"  database: {args.database_url}")
    log("\n== database")
    info = prepare_database(args.database_url, args.applicants, args.reseed)
    with connect(args.database_url) as conn:
        counts = dict(conn.execute("SELECT status, count(*) FROM applications GROUP BY status")
                      .fetchall())
        version = conn.execute("SHOW server_version").fetchone()[0]
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))") \
            .fetchone()[0]
        indexes = conn.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'applications' ORDER BY 1"
        ).fetchall()
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    log(f"  PostgreSQL {version}, database size {size}, alembic revision {revision}")
    log(f"  applications: {sum(counts.values())} "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    log("  indexes on applications: " + ", ".join(i[0] for i in indexes))
    s = pick_subjects(args.database_url)
    names = s["names"]
    log(f"  reviewers: province {s['province']} ({s['reviewers']['province']}), prefecture "
        f"{s['prefecture']} {names[s['prefecture']]} ({s['reviewers']['prefecture']}, "
        f"{s['pending'][s['prefecture']]} pending), county {s['county']} {names[s['county']]} "
        f"({s['reviewers']['county']}, {s['county_pending']} pending); demo password "
        f"{s['password']}")

    results = []  # (label, kind, stats, explain spec)
    with tempfile.TemporaryDirectory(prefix="review-bench-") as tmp:
        server = Server(args.database_url, Path(tmp))
        try:
            server.wait()
            base = server.base
            log(f"\n== server: gunicorn -w 2 -b {HOST}:{server.port} wsgi:app "
                f"(workers {server.workers()})")
            sessions = {role: login(base, id_number, s["password"])
                        for role, id_number in s["reviewers"].items()}
            log(f"  logged in as {len(sessions)} reviewers; {load_line()}")
            n = args.requests
            dates = f"date_from={s['date_from']}&date_to={s['date_to']}"

            def run(label, kind, role, path, spec, headers=None):
                stats = time_get(sessions[role], base + path, n, headers=headers)
                target = TARGETS[kind]
                log(f"  {label:58} median {stats['median']:6.1f} ms  p95 {stats['p95']:6.1f} ms"
                    f"  (target p95 <= {target:.0f} ms: {mark(stats['p95'], target)})"
                    f"  rows {stats['rows']}, 共 {stats['count']}")
                results.append((label, kind, stats, spec))

            region = {"province": s["province"], "prefecture": s["prefecture"],
                      "county": s["county"]}
            log(f"\n== (a) first page, status pending, {n} sequential requests each")
            for role in ("province", "prefecture", "county"):
                run(f"{role} reviewer /review?status=pending", "first", role,
                    "/review?status=pending", {"region": region[role]})
            # Diagnostic: the same page as the filter form's HTMX request gets it (the results
            # block only, without the form and its <select> of every county).
            run("province, HX-Request: results block only (diagnostic)", "first", "province",
                "/review?status=pending", {"region": region["province"]},
                headers={"HX-Request": "true"})

            log(f"\n== (b) filtered pages, {n} sequential requests each")
            c = s["county"]
            for role in ("province", "prefecture"):
                run(f"{role}: county {c} + {s['date_from']}..{s['date_to']}", "filtered", role,
                    f"/review?status=pending&county={c}&{dates}",
                    {"region": region[role], "county": c, "date_from": s["date_from"],
                     "date_to": s["date_to"]})
            run(f"county: {s['date_from']}..{s['date_to']}", "filtered", "county",
                f"/review?status=pending&{dates}",
                {"region": c, "date_from": s["date_from"], "date_to": s["date_to"]})
            for role in ("province", "county"):
                run(f"{role}: search by full ID number", "filtered", role,
                    f"/review?status=pending&q={s['id_number']}",
                    {"region": region[role], "q": s["id_number"]})

            log(f"\n== (c) deep pages: follow 下一页 up to {args.deep_pages} times, then time "
                f"that page ({n} requests each)")
            for role in ("province", "prefecture", "county"):
                started = time.perf_counter()
                url, followed = follow_next(sessions[role], base, "/review?status=pending",
                                            args.deep_pages)
                walk = time.perf_counter() - started
                after = query_of(url).get("after", "")
                run(f"{role}: page {followed + 1} (walk {walk:.1f} s, "
                    f"{walk / max(followed, 1) * 1000:.0f} ms/page)", "deep", role, url,
                    {"region": region[role], "after": after})

            log(f"\n== (d) Excel export: {s['export_status']} rows of prefecture {s['export_prefecture']} "
                f"{names[s['export_prefecture']]} ({s['export_expected']} rows expected), "
                f"{args.export_runs} runs")
            log("  memory = the serving gunicorn worker's RSS, from /proc/PID/status: VmHWM "
                "(peak) after resetting it via /proc/PID/clear_refs before the request")
            export_session = sessions["export"]
            export_url = base + f"/review/export.xlsx?status={s['export_status']}"
            export_stats = []
            for run_index in range(args.export_runs):
                workers = server.workers()
                before = {pid: proc_status(pid) for pid in workers}
                ticks = {pid: cpu_ticks(pid) for pid in workers}
                resets = all(reset_peak(pid) for pid in workers)
                samples = {pid: [] for pid in workers}
                done = threading.Event()

                def sample(done=done, workers=workers, samples=samples):
                    while not done.is_set():
                        for pid in workers:
                            try:
                                samples[pid].append(proc_status(pid)["VmRSS"])
                            except OSError:
                                pass
                        time.sleep(0.02)

                sampler = threading.Thread(target=sample, daemon=True)
                sampler.start()
                started = time.perf_counter()
                response = export_session.get(export_url, timeout=300)
                body = response.content
                seconds = time.perf_counter() - started
                done.set()
                sampler.join()
                if response.status_code != 200:
                    raise SystemExit(f"export: HTTP {response.status_code}")
                pid = max(workers, key=lambda p: cpu_ticks(p) - ticks[p])
                after_status = proc_status(pid)
                peak = max(after_status["VmHWM"] if resets else 0, max(samples[pid] or [0]))
                from openpyxl import load_workbook
                sheet = load_workbook(io.BytesIO(body), read_only=True).active
                rows = sum(1 for _ in sheet.iter_rows(values_only=True)) - 1  # minus the header
                export_stats.append({"seconds": seconds, "peak": peak,
                                     "rss_before": before[pid]["VmRSS"],
                                     "rss_after": after_status["VmRSS"], "rows": rows,
                                     "bytes": len(body)})
                log(f"  run {run_index + 1}: {seconds:5.2f} s, {rows} rows, {len(body) / 1024:.0f} "
                    f"KiB; worker {pid} RSS {before[pid]['VmRSS']:.0f} MB before, peak "
                    f"{peak:.0f} MB, {after_status['VmRSS']:.0f} MB after "
                    f"(peak - before = {peak - before[pid]['VmRSS']:.0f} MB)")
            worst_s = max(e["seconds"] for e in export_stats)
            worst_mb = max(e["peak"] for e in export_stats)
            median_s = statistics.median(e["seconds"] for e in export_stats)
            log(f"  export: median {median_s:.2f} s, worst {worst_s:.2f} s (target <= "
                f"{EXPORT_TARGET_S:.0f} s: {mark(worst_s, EXPORT_TARGET_S)}); worker peak RSS "
                f"{worst_mb:.0f} MB (target <= {EXPORT_TARGET_MB:.0f} MB: "
                f"{mark(worst_mb, EXPORT_TARGET_MB)})")
        finally:
            server.stop()

    log("\n  in-process export (child Python, no HTTP): tracemalloc = Python heap peak, "
        "ru_maxrss = the child's peak RSS")
    child = run_child(args.database_url, "export", {"region": s["export_prefecture"],
                                                     "status": s["export_status"]})
    if child:
        log(f"  {child['rows']} rows in {child['seconds']:.2f} s untraced "
            f"({child['traced_seconds']:.2f} s under tracemalloc); tracemalloc peak "
            f"{child['tracemalloc_peak_mb']:.1f} MB; ru_maxrss {child['maxrss_before_mb']:.0f} MB "
            f"after start-up, {child['maxrss_after_mb']:.0f} MB after the export")

    missed = [r for r in results if r[2]["p95"] > TARGETS[r[1]]]
    explain = results if args.explain == "always" else missed if args.explain == "auto" else []
    if explain:
        log(f"\n== EXPLAIN (ANALYZE, BUFFERS) of the SQL the app issues "
            f"({'all scenarios' if args.explain == 'always' else 'scenarios that missed'})")
    for label, _kind, _stats, spec in explain:
        plans = run_child(args.database_url, "explain", spec)
        log(f"\n-- {label}")
        for item in plans or []:
            sql = item["sql"].decode() if isinstance(item["sql"], bytes) else item["sql"]
            log("SQL: " + " ".join(sql.split()))
            log(item["plan"])

    log("\n== summary")
    for label, kind, stats, _spec in results:
        log(f"  {kind:8} {label:58} p95 {stats['p95']:6.1f} ms / {TARGETS[kind]:.0f}  "
            f"{mark(stats['p95'], TARGETS[kind])}")
    log(f"  export   {export_stats[0]['rows']} rows: worst {worst_s:.2f} s / {EXPORT_TARGET_S:.0f} "
        f"{mark(worst_s, EXPORT_TARGET_S)}; peak worker RSS {worst_mb:.0f} MB / "
        f"{EXPORT_TARGET_MB:.0f} {mark(worst_mb, EXPORT_TARGET_MB)}")
    if info.get("seeded"):
        log(f"  seed of {args.applicants} applicants: {info['seed_seconds']:.1f} s")
    log(f"  at end: {load_line()}")


if __name__ == "__main__":
    main()
