#!/usr/bin/env python3
"""Faults during a moderate surge, each scripted and repeatable, each ending with a verdict and
its numbers. Against the prod-local shape through nginx, with the same locust users.

    .venv/bin/python bench/surge/faults.py postgres   # PostgreSQL restarted mid-surge
    .venv/bin/python bench/surge/faults.py redis      # Redis stopped for --hold seconds
    .venv/bin/python bench/surge/faults.py sms        # the SMS provider slow (5 s), then failing
    .venv/bin/python bench/surge/faults.py all

postgres  every write the app acknowledged (303 / HX-Redirect) is looked up in PostgreSQL
          afterwards; requests during the outage must get the app's Chinese 503, never a
          traceback or nginx's default page; recovery time N is measured.
redis     login and SMS sends must fail closed (503, no code in the outbox that is not counted in
          Redis), logged-in pages keep working, decision notices queued meanwhile are delivered
          after Redis is back (the worker's sweeper rings for them).
sms       SMS_BACKEND=twilio against tests/twilio_standin.py: slow (5 s), then failing (500),
          then fine again. The send-code page stays fast, jobs retry, /sms-status says 正在重试
          and finally 短信发送失败; failed sends are neither counted nor usable.

This restarts the machine's shared PostgreSQL and Redis for a few seconds (Redis is saved
first and comes back with its data). Asserts nothing: prints verdicts."""
import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report  # noqa: E402
import shape  # noqa: E402

PG_VERSION = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1] \
    if Path("/etc/postgresql").exists() else "15"
REDIS_START = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port",
               "6379", "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
               "--logfile", "/var/log/redis/ci.log"]
TWILIO_PORT = 9099
OUT = []
SEND_CODE = "POST /register/send-code (send code)"   # the locust name of 获取验证码 on /register


def say(line: str = "") -> None:
    OUT.append(line)
    print(line, flush=True)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("faults", nargs="*", default=["all"],
                        choices=["postgres", "redis", "sms", "all"])
    parser.add_argument("--users", type=int, default=40, help="locust users: a moderate load")
    parser.add_argument("--hold", type=float, default=15, help="seconds Redis stays down")
    parser.add_argument("--pg-hold", type=float, default=0,
                        help="stop PostgreSQL this long instead of `restart` (default: restart)")
    parser.add_argument("--fresh", action="store_true",
                        help="drop the bench database first (PROD_LOCAL_FRESH=1): it grows a "
                             "few hundred MB a run")
    parser.add_argument("--keep-up", action="store_true")
    return parser.parse_args()


# -- shared pieces --------------------------------------------------------------------------

class Watcher(threading.Thread):
    """Polls a probe every 0.1 s and records when it starts and stops failing."""

    def __init__(self, probe):
        super().__init__(daemon=True)
        self.probe, self.down_at, self.up_at = probe, None, None
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            ok = self.probe()
            now = time.time()
            if not ok and self.down_at is None:
                self.down_at = now
            if ok and self.down_at is not None and self.up_at is None:
                self.up_at = now
            self._halt.wait(0.1)

    def finish(self):
        self._halt.set()
        self.join()


def postgres_ready() -> bool:
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432", "-t", "1"]
                          ).returncode == 0


def redis_ready() -> bool:
    return subprocess.run(["redis-cli", "-p", "6379", "ping"], capture_output=True,
                          text=True).stdout.strip() == "PONG"


def log_offsets() -> dict:
    return {path: path.stat().st_size for path in (shape.RUN / "logs").glob("*.log")}


def unhandled_since(offsets: dict) -> dict:
    """Unhandled exceptions (gunicorn's "Error handling request": the person got a 500) and
    exceptions the worker logged on purpose (log.exception: the job is tried again), by log."""
    markers = {"gunicorn-error.log": "Error handling request", "worker.log": "Traceback ("}
    found = {}
    for name, marker in markers.items():
        path = shape.RUN / "logs" / name
        if not path.exists():
            continue
        with open(path, encoding="utf-8", errors="replace") as handle:
            handle.seek(offsets.get(path, 0))
            count = handle.read().count(marker)
        if count:
            found[name] = count
    return found


def run_load(name: str, plan_path: Path, seconds: int, users: int, events: list, env=None):
    """locust for `seconds` with `users`; `events` is [(at seconds, function)] run meanwhile.
    Returns (request rows, acknowledged writes, t0, the events' results)."""
    folder = plan_path.parent / name
    process = shape.locust(plan_path, folder, users=users, seconds=seconds,
                           spawn_rate=max(10, users // 2), env=env)
    t0 = time.time()
    results = {}
    for at, function in events:
        time.sleep(max(0.0, t0 + at - time.time()))
        results[function.__name__] = function()
    process.wait()
    return report.requests_of(folder), report.writes_of(folder), t0, results


def prepare(extra_env=None, sms_log=None, **sizes):
    env = shape.up(extra_env)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    plan_path = shape.RUN / "runs" / f"fault-{stamp}" / "plan.json"
    plan = shape.seed(plan_path, Path(sms_log or env["SMS_OUTBOX"]),
                      **{"sitting": 300, "queue": 15, "http_registrations": 5, **sizes})
    return env, plan_path, plan


def outcomes(rows) -> str:
    counts = {}
    for row in rows:
        counts[row.outcome] = counts.get(row.outcome, 0) + 1
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda i: -i[1])) or "none"


def bad(rows) -> list:
    return [r for r in rows if r.outcome in report.BAD]


def verdict(ok: bool, text: str) -> None:
    say(f"  {'PASS' if ok else 'FAIL'}  {text}")


# -- what the app acknowledged, looked up in PostgreSQL ----------------------------------------

def missing_writes(writes: list[dict]) -> dict:
    """kind → (acknowledged, missing); every acknowledged write must be in the database."""
    by_kind = {}
    for write in writes:
        by_kind.setdefault(write["what"], []).append(write)
    result = {}
    sections = by_kind.get("section", [])
    if sections:
        rows = shape.query(
            "SELECT a.id_number, s.key, s.data::text FROM application_sections s "
            "JOIN applications ap ON ap.id = s.application_id JOIN accounts a ON a.id = ap.account_id "
            "WHERE a.id_number = ANY(%s)", list({w["account"] for w in sections}))
        stored = {(r[0], r[1]): r[2] for r in rows}
        result["section saved"] = (len(sections), [w for w in sections if w["token"] not in
                                                   stored.get((w["account"], w["key"]), "")])
    materials = by_kind.get("material", [])
    if materials:
        rows = shape.query("SELECT a.id_number, m.kind FROM materials m JOIN accounts a ON "
                           "a.id = m.owner_id WHERE a.id_number = ANY(%s)",
                           list({w["account"] for w in materials}))
        stored = set(rows)
        result["photo uploaded"] = (len(materials), [w for w in materials
                                                     if (w["account"], w["kind"]) not in stored])
    submissions = by_kind.get("submission", [])
    if submissions:
        rows = shape.query("SELECT a.id_number FROM applications ap JOIN accounts a ON "
                           "a.id = ap.account_id WHERE a.id_number = ANY(%s) AND ap.status <> "
                           "'draft' AND ap.submitted_at IS NOT NULL",
                           list({w["account"] for w in submissions}))
        stored = {r[0] for r in rows}
        result["submission"] = (len(submissions), [w for w in submissions
                                                   if w["account"] not in stored])
    decisions = by_kind.get("decision", [])
    if decisions:
        rows = shape.query("SELECT d.application_id, d.approved FROM review_decisions d "
                           "WHERE d.application_id = ANY(%s)",
                           list({w["application"] for w in decisions}))
        stored = set(rows)
        result["decision"] = (len(decisions), [w for w in decisions if
                                               (w["application"], w["approved"]) not in stored])
    registrations = by_kind.get("registration", [])
    if registrations:
        rows = shape.query("SELECT id_number FROM accounts WHERE id_number = ANY(%s)",
                           [w["account"] for w in registrations])
        stored = {r[0] for r in rows}
        result["registration"] = (len(registrations), [w for w in registrations
                                                       if w["account"] not in stored])
    return result


def report_writes(writes) -> bool:
    lost = 0
    for kind, (count, missing) in missing_writes(writes).items():
        say(f"    {kind:<16} acknowledged {count:>5}, in PostgreSQL {count - len(missing):>5}")
        lost += len(missing)
        for write in missing[:5]:
            say(f"      missing: {json.dumps(write, ensure_ascii=False)}")
    return lost == 0


def recovery(rows, since: float) -> tuple[float | None, float | None]:
    """(seconds after `since` to the first success, to the last failure) of requests started
    after `since`."""
    after = [r for r in rows if r.at >= since]
    first_ok = next((r.at - since for r in after if r.outcome == "ok"), None)
    failures = [r.at - since for r in after if r.outcome not in ("ok", "conflict")]
    return first_ok, (max(failures) if failures else None)


# -- 1. PostgreSQL restarted --------------------------------------------------------------

def postgres_fault(args) -> None:
    how = f"stopped for {args.pg_hold:.0f} s" if args.pg_hold else "restarted"
    say(f"== fault 1: PostgreSQL {PG_VERSION} {how} mid-surge ({args.users} users) "
        f"[load average {shape.loadavg()}]")
    _env, plan_path, _plan = prepare()
    offsets = log_offsets()
    watcher = Watcher(postgres_ready)
    watcher.start()
    timing = {}

    def restart_postgres():
        timing["start"] = time.time()
        command = ["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, "main"]
        if args.pg_hold:  # a longer outage: stopped, kept down, started
            result = subprocess.run(command + ["stop"], capture_output=True, text=True)
            time.sleep(args.pg_hold)
            result = subprocess.run(command + ["start"], capture_output=True, text=True)
        else:
            result = subprocess.run(command + ["restart"], capture_output=True, text=True)
        timing["end"] = time.time()
        return result.returncode, result.stderr.strip()[-300:]

    rows, writes, t0, results = run_load("postgres", plan_path, 60, args.users,
                                         [(20, restart_postgres)])
    watcher.finish()
    code, error = results["restart_postgres"]
    if code != 0:
        say(f"  pg_ctlcluster failed ({code}): {error}")
    down = watcher.down_at or timing["start"]
    up = watcher.up_at or timing["end"]
    say(f"  restart issued at +{timing['start'] - t0:.1f} s; PostgreSQL refused connections from "
        f"+{down - t0:.1f} s to +{up - t0:.1f} s ({up - down:.1f} s); pg_ctlcluster took "
        f"{timing['end'] - timing['start']:.1f} s")
    ready = max(up, timing["end"])  # pg_ctlcluster returns once PostgreSQL accepts again
    before = [r for r in rows if r.at < timing["start"] - 2]
    during = [r for r in rows if timing["start"] - 2 <= r.at <= ready + 10]
    failed = [r for r in during if r.outcome not in ("ok", "conflict")]
    say(f"  before the restart: {outcomes(before)}")
    say(f"  from 2 s before the restart (requests in flight) to 10 s after PostgreSQL was back: "
        f"{outcomes(during)}")
    if failed:
        say(f"  failed answers from +{failed[0].at - timing['start']:.1f} s to "
            f"+{failed[-1].at - timing['start']:.1f} s after the restart was issued")
    first_ok, last_failure = recovery(rows, ready)
    say(f"  after PostgreSQL accepted connections again: first success {first_ok or 0:.1f} s "
        f"later, last failed request {f'{last_failure:.1f} s later' if last_failure else 'none'}")
    say("  acknowledged writes (303) looked up in PostgreSQL afterwards:")
    kept = report_writes(writes)
    traces = unhandled_since(offsets)
    say(f"  unhandled errors in gunicorn's log (500s), exceptions the worker logged: "
        f"{traces or 'none'}")
    verdict(kept, "every write the app acknowledged is in PostgreSQL")
    verdict(not bad(rows), f"no traceback, no nginx default page, no other error "
                           f"({len(bad(rows))} bad answers of {len(rows)})")
    verdict("gunicorn-error.log" not in traces, "no unhandled error (500) in gunicorn's log")
    n = max(0.0, last_failure or 0.0)
    verdict(n <= 10 and bool(first_ok is not None), f"recovered by itself: requests succeed again "
                                                     f"within N = {n:.1f} s of PostgreSQL "
                                                     "accepting connections")


# -- 2. Redis stopped ----------------------------------------------------------------------

def redis_fault(args) -> None:
    say(f"== fault 2: Redis stopped for {args.hold:.0f} s mid-surge ({args.users} users) "
        f"[load average {shape.loadavg()}]")
    env, plan_path, _plan = prepare()
    offsets = log_offsets()
    outbox = Path(env["SMS_OUTBOX"])
    outbox_start = outbox.stat().st_size if outbox.exists() else 0
    watcher = Watcher(redis_ready)
    watcher.start()
    timing = {}

    def stop_redis():
        # Saved first so that the others using this Redis (db 15, other prod-locals) get their
        # keys back; our db comes back as it was, like a Redis with persistence.
        subprocess.run(["redis-cli", "-p", "6379", "save"], capture_output=True)
        timing["stop"] = time.time()
        subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], capture_output=True)
        return True

    def start_redis():
        timing["start"] = time.time()
        result = subprocess.run(REDIS_START, capture_output=True, text=True)
        for _ in range(50):
            if redis_ready():
                break
            time.sleep(0.1)
        Path("/var/lib/redis/dump.rdb").unlink(missing_ok=True)
        return result.returncode

    # More senders than in the surge mix, and reviewers deciding: the two things to watch.
    weights = {"SURGE_WEIGHTS": "Applicant=40,Reviewer=30,Returning=15,Registrant=15",
               "SURGE_RETRIES": "3", "SURGE_RETRY_WAIT": "3"}
    try:
        rows, writes, t0, _results = run_load(
            "redis", plan_path, 60, args.users, [(15, stop_redis), (15 + args.hold, start_redis)],
            env=weights)
    finally:
        if not redis_ready():
            subprocess.run(REDIS_START, capture_output=True)
    watcher.finish()
    # From the shutdown command to the start command: Redis cannot answer in between.
    down, up = timing["stop"], timing["start"]
    say(f"  Redis stopped at +{down - t0:.1f} s, started again at +{up - t0:.1f} s "
        f"({up - down:.1f} s; PING answered again {(watcher.up_at or up) - up:.2f} s after)")
    during = [r for r in rows if down <= r.at <= up]
    groups = {
        "login posts (POST /login)": lambda r: r.name == "POST /login",
        "SMS sends (POST /register/send-code)": lambda r: r.name == SEND_CODE,
        "logged-in pages (collection, sections, uploads, review, decide, media)": lambda r: (
            r.name.split(" ", 1)[1].startswith(("/collection", "/review", "/media"))),
        "everything else (login page, register page, sms-status, logout)": lambda r: True,
    }
    assigned, by_group = set(), {}
    for label, test in groups.items():
        chosen = [r for r in during if id(r) not in assigned and test(r)]
        assigned |= {id(r) for r in chosen}
        by_group[label] = chosen
        say(f"  during the outage, {label}: {outcomes(chosen)}")
    logins = by_group["login posts (POST /login)"]
    sends = by_group["SMS sends (POST /register/send-code)"]
    pages = by_group["logged-in pages (collection, sections, uploads, review, decide, media)"]

    messages = outbox_lines(outbox, outbox_start)
    refused = {w["phone"] for w in writes if w["what"] == "sms_refused"}
    sent_to_refused = [m for m in messages if m["to"] in refused and "验证码" in m["body"]]
    codes = [m for m in messages if "验证码" in m["body"]]
    in_outage = [m for m in codes if down <= m["at"] <= up]
    uncounted = uncounted_codes(codes)
    say(f"  codes delivered in the run: {len(codes)}, during the outage: {len(in_outage)}; "
        f"sends refused with 503: {len(refused)}, codes that reached a refused phone: "
        f"{len(sent_to_refused)}; delivered codes not counted in Redis: {len(uncounted)}")
    decided = [w for w in writes if w["what"] == "decision" and down <= w["at"] <= up]
    delays = notice_delays([w["application"] for w in decided], up)
    delivered = [d for d in delays if d is not None]
    say(f"  decisions made during the outage: {len(decided)}; their notices delivered: "
        f"{len(delivered)}" + (f", {statistics.median(delivered):.1f} s median / "
                               f"{max(delivered):.1f} s max after Redis was back"
                               if delivered else ""))
    first_login = next((r.at - up for r in rows if r.at >= up and r.name == "POST /login"
                        and r.outcome == "ok"), None)
    after = [r for r in rows if r.at >= up + 5]
    say(f"  after Redis was back: first successful login {first_login or 0:.1f} s later; "
        f"from 5 s on: {outcomes(after)}")
    traces = unhandled_since(offsets)
    say(f"  unhandled errors in gunicorn's log (500s), exceptions the worker logged: "
        f"{traces or 'none'}")
    verdict(logins and all(r.outcome == "app-503" for r in logins),
            f"logins refused with the app's 503 ({len(logins)} during the outage)")
    verdict(all(r.outcome == "app-503" for r in sends) and not sent_to_refused and not uncounted
            and not in_outage, f"SMS fails closed: {len(sends)} sends refused with 503, no code "
                               "sent during the outage, every delivered code counted")
    verdict(pages and not [r for r in pages if r.outcome != "ok" and r.outcome != "conflict"],
            f"logged-in pages kept working ({len(pages)} requests)")
    verdict(len(delivered) == len(decided), "notices of decisions made during the outage "
                                            "delivered after Redis came back")
    verdict(not bad(rows) and "gunicorn-error.log" not in traces
            and not [r for r in after if r.outcome not in ("ok", "conflict")],
            "no traceback or unexpected error; everything works again after Redis is back")


def outbox_lines(path: Path, offset: int) -> list[dict]:
    from datetime import datetime
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as handle:
        handle.seek(offset)
        lines = [json.loads(line) for line in handle if line.strip()]
    for line in lines:
        line["to"] = line["to"].removeprefix("+86")
        line["at"] = datetime.fromisoformat(line["at"]).timestamp()
    return lines


def uncounted_codes(codes: list[dict]) -> list[str]:
    """Phones whose delivered codes outnumber the sends Redis counted for them today."""
    import redis
    client = redis.Redis(port=6379, db=shape.REDIS_DB)
    delivered = {}
    for message in codes:
        delivered[message["to"]] = delivered.get(message["to"], 0) + 1
    uncounted = []
    for phone, count in delivered.items():
        # keys: …/sms-phone/<scope>/<phone>/<amount>/<period>/…, one per window; each scope
        # (a new binding, account recovery) is counted on its own
        by_scope = {}
        for key in client.scan_iter(f"*sms-phone/*/{phone}/*"):
            if client.type(key) == b"list":
                scope = key.decode().split("sms-phone/", 1)[1].split("/", 1)[0]
                by_scope[scope] = max(by_scope.get(scope, 0), client.llen(key))
        counted = sum(by_scope.values())
        if counted < count:
            uncounted.append(phone)
    return uncounted


def notice_delays(applications: list[int], since: float) -> list[float | None]:
    if not applications:
        return []
    rows = shape.query(
        "SELECT d.application_id, j.status, extract(epoch FROM j.finished_at) FROM review_decisions d "
        "LEFT JOIN jobs j ON j.kind = 'notice.decision' AND (j.payload->>'decision_id')::int = d.id "
        "WHERE d.application_id = ANY(%s)", applications)
    return [(float(finished) - since) if status == "done" and finished else None
            for _application, status, finished in rows]


# -- 3. The SMS provider slow, then failing ---------------------------------------------------

def sms_fault(args) -> None:
    say(f"== fault 3: the SMS provider (Twilio stand-in) slow 5 s, then failing, then fine "
        f"({args.users} users) [load average {shape.loadavg()}]")
    twilio_log = shape.RUN / "twilio.jsonl"
    twilio_log.unlink(missing_ok=True)
    standin = subprocess.Popen(
        [str(shape.APP_VENV / "python"), "-m", "tests.twilio_standin", "--port", str(TWILIO_PORT),
         "--mode", "ok", "--delay", "5", "--log", str(twilio_log)],
        cwd=shape.ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True)
    standin.stdout.readline()
    extra = {"SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": "AC" + "5" * 32,
             "TWILIO_AUTH_TOKEN": "surge-token", "TWILIO_FROM_NUMBER": "+15005550006",
             "TWILIO_BASE_URL": f"http://127.0.0.1:{TWILIO_PORT}", "JOB_RETRY_DELAYS": "2,4"}
    try:
        offsets = log_offsets()
        _env, plan_path, _plan = prepare(extra, sms_log=twilio_log)
        phases = [("slow", 0, 35), ("error", 35, 70), ("ok", 70, 90)]

        def switch(mode):
            def to_mode():
                subprocess.run(["curl", "-s", "--noproxy", "*", "-d", f"mode={mode}",
                                f"http://127.0.0.1:{TWILIO_PORT}/_standin/mode"],
                               capture_output=True)
                return time.time()
            to_mode.__name__ = f"to_{mode}"
            return to_mode

        env = {"SURGE_WEIGHTS": "Applicant=45,Reviewer=30,Returning=10,Registrant=15",
               "SURGE_SMS_WAIT": "60"}
        rows, writes, t0, _results = run_load(
            "sms", plan_path, 90, args.users,
            [(at, switch(mode)) for mode, at, _end in phases], env=env)
    finally:
        shape.stop(standin)
    asked = {w["phone"]: w for w in writes if w["what"] == "sms_asked"}
    results = {w["phone"]: w for w in writes if w["what"] == "sms_result"}
    jobs = {row[0]: row[1:] for row in shape.query(
        "SELECT payload->>'phone', status, attempts, left(last_error, 60), "
        "extract(epoch FROM finished_at - created_at) FROM jobs WHERE kind = 'sms.code' AND "
        "payload->>'phone' = ANY(%s)", list(asked))}
    say(f"  stand-in answers by mode, Twilio log: {twilio_summary(twilio_log)}")
    fast = True
    for mode, start, end in phases:
        window = [r for r in rows if t0 + start <= r.at < t0 + end]
        sends = [r.ms for r in window if r.name == SEND_CODE]
        others = [r.ms for r in window if r.name != SEND_CODE]
        mine = [p for p, w in asked.items() if t0 + start <= w["at"] < t0 + end]
        outcome_counts = {}
        for phone in mine:
            outcome = results.get(phone, {}).get("outcome", "still waiting at the end")
            outcome_counts[outcome] = outcome_counts.get(outcome, 0) + 1
        seen = sorted({s for p in mine for s in results.get(p, {}).get("saw", [])})
        job_states = {}
        for phone in mine:
            status, attempts = (jobs.get(phone) or ("no job", 0))[:2]
            job_states[f"{status}×{attempts}"] = job_states.get(f"{status}×{attempts}", 0) + 1
        waits = [results[p]["seconds"] for p in mine if p in results and
                 results[p]["outcome"] == "sent"]
        say(f"  provider {mode} (+{start}–{end} s): {len(sends)} sends, send-code page p50 "
            f"{report.percentile(sends, .5):.0f} ms / p95 {report.percentile(sends, .95):.0f} ms "
            f"/ max {max(sends, default=float('nan')):.0f} ms; other pages p95 "
            f"{report.percentile(others, .95):.0f} ms; {outcomes(window)}")
        say(f"      asked in this phase, what the person saw: {outcome_counts}, the status line said {seen}; "
            f"code arrived after {report.percentile(waits, .5):.1f} s median / "
            f"{max(waits, default=float('nan')):.1f} s max; jobs (status×attempts): {job_states}")
        fast = fast and (not sends or max(sends) < 5000)
    say("  every job of the run, by kind and status (decision notices share the worker):")
    for kind, status, count, attempts in shape.query(
            "SELECT kind, status, count(*), round(avg(attempts), 1) FROM jobs WHERE created_at >= "
            "to_timestamp(%s) AT TIME ZONE 'UTC' GROUP BY kind, status ORDER BY kind, status",
            t0):
        say(f"    {kind:<16} {status:<8} {count:>5}  attempts {attempts}")
    failed_phones = [p for p, (status, *_rest) in jobs.items() if status == "failed"]
    counted = counted_sends(failed_phones)
    usable = shape.query("SELECT count(*) FROM sms_codes WHERE phone = ANY(%s) AND used_at IS NULL "
                         "AND expires_at > now()", failed_phones)[0][0] if failed_phones else 0
    saw_failure = [p for p in failed_phones if results.get(p, {}).get("outcome") == "failed"]
    saw_retry = [p for p in failed_phones if "retrying" in results.get(p, {}).get("saw", [])]
    traces = unhandled_since(offsets)
    say(f"  failed jobs: {len(failed_phones)} (attempts: "
        f"{sorted({jobs[p][1] for p in failed_phones})}); their sends counted in Redis: "
        f"{counted}; their codes still usable: {usable}; the person saw 正在重试: "
        f"{len(saw_retry)}, 短信发送失败: {len(saw_failure)}")
    say(f"  unhandled errors in gunicorn's log (500s), exceptions the worker logged: "
        f"{traces or 'none'}")
    verdict(fast, "the send-code page never waited for the provider (every send answered in "
                  "less than the provider's 5 s; compare its p50 with the other pages')")
    verdict(bool(failed_phones) and all(jobs[p][1] == 3 for p in failed_phones),
            "failing sends were tried 3 times, then marked failed")
    verdict(bool(failed_phones) and len(saw_failure) == len(failed_phones)
            and len(saw_retry) == len(failed_phones),
            "the person was told 正在重试 while it retried, and 短信发送失败 at the end")
    verdict(counted == 0 and usable == 0, "a failed send costs no limit and leaves no usable code")
    verdict(not bad(rows) and "gunicorn-error.log" not in traces,
            "no traceback, 500 or unexpected error")


def twilio_summary(path: Path) -> dict:
    counts = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            status = json.loads(line)["status"]
            counts[status] = counts.get(status, 0) + 1
    return counts


def counted_sends(phones: list[str]) -> int:
    import redis
    client = redis.Redis(port=6379, db=shape.REDIS_DB)
    return sum(client.llen(key) for phone in phones
               for key in client.scan_iter(f"*sms-phone/{phone}/*") if client.type(key) == b"list")


def main():
    args = parse_args()
    chosen = ["postgres", "redis", "sms"] if "all" in args.faults else args.faults
    stamp = time.strftime("%Y%m%d-%H%M%S")
    say(f"fault run {stamp}: {', '.join(chosen)}; load average {shape.loadavg()}")
    say("Per-address limits (LOGIN_IP_LIMIT, REGISTER_IP_LIMIT, RESET_IP_LIMIT, SMS_IP_LIMITS) are "
        "raised: every load user comes from 127.0.0.1. SMS per-phone limits are the product's.")
    runners = {"postgres": postgres_fault, "redis": redis_fault, "sms": sms_fault}
    if args.fresh:
        shape.up({"PROD_LOCAL_FRESH": "1"})
    try:
        for name in chosen:
            say()
            runners[name](args)
            say(f"  [load average after: {shape.loadavg()}]")
    finally:
        if not args.keep_up:
            shape.down()
    results = shape.ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / f"faults-{stamp}.txt").write_text("\n".join(OUT) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
