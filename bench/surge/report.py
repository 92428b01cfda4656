"""Reading what the locust users left behind: every request (requests-*.tsv) and every write the
app acknowledged (writes-*.jsonl); percentiles by nearest rank; py-spy's raw stacks summarised."""
import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

BAD = ("traceback", "nginx-default", "error")   # never acceptable, even during a fault


@dataclass
class Request:
    at: float
    name: str
    status: int
    ms: float
    outcome: str


def requests_of(folder: Path) -> list[Request]:
    rows = []
    for path in folder.glob("requests-*.tsv"):
        for line in path.read_text(encoding="utf-8").splitlines():
            at, name, status, ms, outcome = line.split("\t")
            rows.append(Request(float(at), name, int(status), float(ms), outcome))
    return sorted(rows, key=lambda r: r.at)


def writes_of(folder: Path) -> list[dict]:
    rows = []
    for path in folder.glob("writes-*.jsonl"):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return sorted(rows, key=lambda w: w["at"])


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def between(rows: list[Request], start: float, end: float) -> list[Request]:
    return [r for r in rows if start <= r.at < end]


def summary(rows: list[Request], seconds: float) -> dict:
    times = [r.ms for r in rows]
    errors = [r for r in rows if r.outcome not in ("ok", "conflict")]
    return {"count": len(rows), "rate": len(rows) / seconds if seconds else 0.0,
            "p50": percentile(times, 0.50), "p95": percentile(times, 0.95),
            "p99": percentile(times, 0.99), "max": max(times, default=float("nan")),
            "errors": len(errors), "outcomes": Counter(r.outcome for r in errors)}


def endpoint_table(rows: list[Request], seconds: float) -> list[str]:
    by_name = defaultdict(list)
    for row in rows:
        by_name[row.name].append(row)
    lines = [f"  {'endpoint':<46} {'count':>6} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6} "
             f"{'max':>6} {'errors':>6}"]
    for name in sorted(by_name, key=lambda n: -len(by_name[n])):
        s = summary(by_name[name], seconds)
        lines.append(f"  {name:<46} {s['count']:>6} {s['rate']:>7.1f} {s['p50']:>6.0f} "
                     f"{s['p95']:>6.0f} {s['p99']:>6.0f} {s['max']:>6.0f} {s['errors']:>6}")
    s = summary(rows, seconds)
    lines.append(f"  {'all':<46} {s['count']:>6} {s['rate']:>7.1f} {s['p50']:>6.0f} "
                 f"{s['p95']:>6.0f} {s['p99']:>6.0f} {s['max']:>6.0f} {s['errors']:>6}")
    if s["outcomes"]:
        lines.append(f"  errors by outcome: {dict(s['outcomes'])}")
    return lines


def one_line(label: str, s: dict) -> str:
    return (f"{label}: {s['rate']:.0f} req/s, p50 {s['p50']:.0f} ms, p95 {s['p95']:.0f} ms, "
            f"p99 {s['p99']:.0f} ms, {s['errors']} errors of {s['count']}")


# -- py-spy ---------------------------------------------------------------------------------

OURS = ("app.py", "blueprints/", "domain/", "sms/", "jobs/", "models/", "wechat/", "templates/",
        "extensions.py", "config.py")
WAITING = {  # a thread that is not using the CPU, although py-spy samples it as active
    "Connection.wait (psycopg/connection.py)": "waiting for PostgreSQL's answer",
    "_worker (concurrent/futures/thread.py)": "idle (a thread waiting for a request)",
    "EpollSelector.select (selectors.py)": "idle (a thread waiting for a request)",
    "Condition.wait (threading.py)": "idle (a thread waiting for a request)",
}
AREAS = (  # the innermost library on the stack names where a sample's time went
    ("argon2/", "argon2 (password hashing)"), ("PIL/", "Pillow (photo pipeline)"),
    ("psycopg/", "psycopg (PostgreSQL driver)"), ("sqlalchemy/", "SQLAlchemy"),
    ("jinja2/", "Jinja2 (templates)"), ("markupsafe/", "Jinja2 (templates)"),
    ("wtforms/", "WTForms"), ("flask_wtf/", "WTForms"), ("itsdangerous/", "sessions, CSRF"),
    ("limits/", "rate limits (Redis)"), ("redis/", "rate limits (Redis)"), ("rq/", "job queue"),
    ("werkzeug/", "werkzeug"), ("flask/", "Flask"), ("flask_login/", "Flask"),
    ("gunicorn/", "gunicorn"), ("json/", "json"), ("hashlib", "hashlib"),
)


def pyspy_summary(raw: Path, top: int = 12) -> list[str]:
    """Where the workers' busy samples went (by the innermost library on the stack), the
    hottest functions by own time, and our own code's functions by total time, from
    `py-spy record --format raw` (idle threads are not sampled)."""
    own, ours, areas, waiting, samples = Counter(), Counter(), Counter(), Counter(), 0
    if not raw.exists():
        return ["  (no profile: py-spy wrote nothing)"]
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [short(f) for f in stack.split(";")
                  if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        n = int(count)
        if frames[-1] in WAITING:
            waiting[WAITING[frames[-1]]] += n
            continue
        samples += n
        own[frames[-1]] += n
        areas[area_of(frames)] += n
        for frame in {f for f in frames if f.split(" (", 1)[-1].startswith(OURS)}:
            ours[frame] += n
    if not samples:
        return ["  (no busy samples)"]
    everything = samples + sum(waiting.values())
    lines = [f"  {everything} samples of the workers' threads: "
             + ", ".join(f"{name} {n / everything * 100:.0f} %" for name, n in waiting.items())
             + f", working {samples / everything * 100:.0f} %",
             f"  the {samples} working samples by area (innermost library on the stack):"]
    lines += [f"    {n / samples * 100:5.1f} %  {name}" for name, n in areas.most_common()]
    lines.append("  hottest functions, own time:")
    lines += [f"    {n / samples * 100:5.1f} %  {name}" for name, n in own.most_common(top)]
    lines.append("  our code, total time (with what it calls):")
    lines += [f"    {n / samples * 100:5.1f} %  {name}" for name, n in ours.most_common(top)]
    return lines


def area_of(frames: list[str]) -> str:
    for frame in reversed(frames):
        where = frame.split(" (", 1)[-1]
        for prefix, area in AREAS:
            if where.startswith(prefix):
                return area
        if where.startswith(OURS):
            return "our code"
    return "other (Python itself, threads)"


def short(frame: str) -> str:
    """'render (jinja2/environment.py:1295)' → 'render (jinja2/environment.py)'."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "wt-surge/", "python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})"
