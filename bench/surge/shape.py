"""The prod-local shape as the surge and fault runs drive it: bringing it up with the load run's
settings, seeding, starting locust, sampling CPU per process from /proc, reading PostgreSQL.

Everything stays on 127.0.0.1, and on ports and a database of its own (another person uses the
defaults on this machine): PROD_LOCAL_* below are the defaults, the environment may override."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH_VENV = ROOT / ".venv-bench" / "bin"
APP_VENV = ROOT / ".venv" / "bin"
LOCUSTFILE = ROOT / "bench" / "surge" / "locustfile.py"

SHAPE_DEFAULTS = {
    "PROD_LOCAL_DIR": str(ROOT / "instance" / "surge"),
    "PROD_LOCAL_HTTPS_PORT": "9443",
    "PROD_LOCAL_HTTP_PORT": "9080",
    "PROD_LOCAL_APP_PORT": "9001",
    "PROD_LOCAL_DATABASE": "kjxx_surge",
    "PROD_LOCAL_REDIS_DB": "4",
}
# Every load user comes from 127.0.0.1 (nginx overwrites X-Forwarded-For with the real peer), so
# the per-address limits would stop the run after a few dozen posts: raised for the load run only.
# The per-phone SMS limits stay as the product has them (each user has its own phone).
LOAD_LIMITS = {
    "LOGIN_IP_LIMIT": "1000000 per hour",
    "REGISTER_IP_LIMIT": "1000000 per hour",
    "RESET_IP_LIMIT": "1000000 per hour",
    "SMS_IP_LIMITS": "1000000 per hour;10000000 per day",
}


def setting(name: str) -> str:
    return os.environ.get(name) or SHAPE_DEFAULTS[name]


RUN = Path(setting("PROD_LOCAL_DIR"))
HTTPS_PORT = int(setting("PROD_LOCAL_HTTPS_PORT"))
HOST = f"https://127.0.0.1:{HTTPS_PORT}"
CA = RUN / "tls" / "cert.pem"
DATABASE = setting("PROD_LOCAL_DATABASE")
REDIS_DB = int(setting("PROD_LOCAL_REDIS_DB"))
PG_URL = f"postgresql://postgres@127.0.0.1:5432/{DATABASE}"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def shape_env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env.update({name: setting(name) for name in SHAPE_DEFAULTS})
    env.update(LOAD_LIMITS)
    env.update(extra or {})
    return env


def up(extra: dict | None = None) -> dict:
    """`make prod-local` with this run's settings; returns the services' environment."""
    result = subprocess.run([str(ROOT / "deploy" / "local" / "up.sh")], cwd=ROOT,
                            env=shape_env(extra), capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"prod-local did not come up:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    log(result.stdout.strip().splitlines()[-1])
    return staging_env()


def down() -> None:
    subprocess.run([str(ROOT / "deploy" / "local" / "down.sh")], cwd=ROOT, env=shape_env(),
                   capture_output=True)


def staging_env() -> dict:
    env = dict(os.environ)
    for line in (RUN / "staging.env").read_text().splitlines():
        name, _, value = line.partition("=")
        if name and not name.startswith("#"):
            env[name] = value.strip('"')
    return env


def pid_of(name: str) -> int | None:
    try:
        return int((RUN / name).read_text().strip())
    except (OSError, ValueError):
        return None


def seed(plan: Path, sms_log: Path, **sizes) -> dict:
    """bench/surge/seed.py with the services' environment; returns the plan."""
    args = [str(APP_VENV / "python"), str(ROOT / "bench" / "surge" / "seed.py"),
            "--out", str(plan), "--host", HOST, "--ca", str(CA), "--sms-log", str(sms_log)]
    for name, value in sizes.items():
        args += [f"--{name.replace('_', '-')}", str(value)]
    started = time.monotonic()
    subprocess.run(args, cwd=ROOT, env=staging_env(), check=True)
    log(f"seeded in {time.monotonic() - started:.0f} s")
    return json.loads(plan.read_text(encoding="utf-8"))


def query(sql: str, *params) -> list[tuple]:
    import psycopg
    with psycopg.connect(PG_URL, connect_timeout=10) as connection:
        return connection.execute(sql, params).fetchall()


# -- locust ---------------------------------------------------------------------------------

def locust(plan: Path, log_dir: Path, *, users: int = 0, seconds: int = 0, stages: str = "",
           processes: int = 1, host: str = HOST, classes=(), env: dict | None = None,
           spawn_rate: float = 50) -> subprocess.Popen:
    """Start locust headless (FastHttpUser; --processes N forks N generator processes)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    args = [str(BENCH_VENV / "locust"), "-f", str(LOCUSTFILE), "--headless", "--host", host,
            "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "5",
            "--csv", str(log_dir / "locust"), "--exit-code-on-error", "0"]
    if not stages:
        args += ["-u", str(users), "-r", str(spawn_rate), "-t", f"{seconds}s"]
    if processes > 1:
        args += ["--processes", str(processes)]
    args += list(classes)
    run_env = dict(os.environ, SURGE_PLAN=str(plan), SURGE_LOG_DIR=str(log_dir),
                   SURGE_PROCESSES=str(processes), SURGE_STAGES=stages,
                   SURGE_SPAWN_RATE=str(spawn_rate), **(env or {}))
    output = open(log_dir / "locust.log", "w")
    return subprocess.Popen(args, cwd=ROOT, env=run_env, stdout=output, stderr=subprocess.STDOUT,
                            start_new_session=True)


def children_cpu() -> float:
    """CPU seconds of this process's waited-for children (and theirs): around a locust run,
    the whole generator's CPU, its --processes workers included."""
    import resource
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# -- CPU per process, from /proc --------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Snapshot:
    at: float
    busy: float                       # seconds of CPU the whole machine spent, since boot
    processes: dict = field(default_factory=dict)   # pid → (group, cpu seconds)
    names: dict = field(default_factory=dict)       # pid → command line, for "other"


def _proc_stat(pid: str):
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
            "utf-8", "replace")
    except OSError:
        return None
    comm_end = raw.rindex(")")
    fields = raw[comm_end + 2:].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS, cmdline


class CpuSampler(threading.Thread):
    """Every `every` seconds, the CPU time of each process, put in a group: nginx, gunicorn
    (master and workers), the job worker, PostgreSQL serving our database, the rest of
    PostgreSQL (shared), Redis, the load generator, the hello baseline, or other."""

    def __init__(self, every: float = 2.0):
        super().__init__(daemon=True)
        self.every, self.snapshots, self.roots = every, [], {}
        self._halt = threading.Event()

    def watch(self, group: str, pid: int | None) -> None:
        """Count `pid` and its descendants as `group`."""
        if pid:
            self.roots[pid] = group

    def run(self):
        while not self._halt.is_set():
            self.snapshots.append(self.take())
            self._halt.wait(self.every)

    def finish(self):
        self._halt.set()
        self.join()
        self.snapshots.append(self.take())

    def take(self) -> Snapshot:
        cpu = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        values = [int(v) for v in cpu]
        busy = (sum(values[:8]) - values[3] - values[4]) / CLOCK_TICKS
        table = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                stat = _proc_stat(entry)
                if stat is not None:
                    table[int(entry)] = stat
        snapshot = Snapshot(time.time(), busy)
        for pid, (_ppid, seconds, cmdline) in table.items():
            group = self._group(pid, cmdline, table)
            snapshot.processes[pid] = (group, seconds)
            if group == "other":
                snapshot.names[pid] = cmdline[:60] or f"[pid {pid}]"
        return snapshot

    def _group(self, pid, cmdline, table) -> str:
        current = pid
        for _depth in range(20):
            if current in self.roots:
                group = self.roots[current]
                return group.replace("workers", "master") if current == pid else group
            if current not in table:
                break
            current = table[current][0]
        if cmdline.startswith("postgres:"):
            # A backend reads "postgres: 15/main: USER DATABASE HOST(PORT) STATE".
            words = cmdline.split()
            if len(words) >= 5 and "(" in words[4]:
                return "postgres (our database)" if words[3] == DATABASE else "other"
            return "postgres (background: WAL, checkpoints)"
        if "redis-server" in cmdline:
            return "redis"
        return "other"

    def usage(self, start: float, end: float, others: dict | None = None):
        """(wall seconds, machine busy CPU seconds, group → CPU seconds) between two times;
        `others` collects the CPU of each process in "other", by command line."""
        first = min(self.snapshots, key=lambda s: abs(s.at - start))
        last = min(self.snapshots, key=lambda s: abs(s.at - end))
        groups = {}
        for pid, (group, seconds) in last.processes.items():
            before = first.processes.get(pid)
            # A process absent from the first snapshot started after it: all its time counts.
            spent = max(0.0, seconds - before[1]) if before else seconds
            groups[group] = groups.get(group, 0.0) + spent
            if others is not None and group == "other" and spent:
                name = last.names.get(pid, str(pid))
                others[name] = others.get(name, 0.0) + spent
        return last.at - first.at, last.busy - first.busy, groups


def cpu_table(sampler: CpuSampler, start: float, end: float) -> list[str]:
    others = {}
    wall, busy, groups = sampler.usage(start, end, others)
    cores = os.cpu_count() or 1
    lines = [f"CPU over {wall:.0f} s: the machine was busy {busy / wall / cores * 100:.0f} % of "
             f"{cores} cores ({busy / wall:.2f} cores)",
             f"  {'process group':<48} {'cores':>6} {'share of busy':>14}"]
    for group, seconds in sorted(groups.items(), key=lambda item: -item[1]):
        if seconds / wall >= 0.005:
            lines.append(f"  {group:<48} {seconds / wall:>6.2f} {seconds / busy * 100:>13.0f} %")
    unattributed = busy - sum(groups.values())
    if unattributed / wall >= 0.005:
        lines.append(f"  {'unattributed (processes that ended meanwhile, kernel)':<48} "
                     f"{unattributed / wall:>6.2f} {unattributed / busy * 100:>13.0f} %")
    heaviest = sorted(others.items(), key=lambda item: -item[1])[:3]
    if heaviest:
        lines.append("  the heaviest in other (not ours: the machine is shared): " + "; ".join(
            f"{name.strip()} {seconds / wall:.2f}" for name, seconds in heaviest))
    return lines


class PostgresWaits(threading.Thread):
    """Once a second, what our database's connections are doing (pg_stat_activity): running,
    waiting for a lock (the audit chain's advisory lock is one), waiting for the app (idle in
    transaction), idle."""

    def __init__(self):
        super().__init__(daemon=True)
        self.counts, self.samples = {}, 0
        self._halt = threading.Event()

    def run(self):
        import psycopg
        with psycopg.connect(PG_URL, autocommit=True) as connection:
            while not self._halt.wait(1.0):
                rows = connection.execute(
                    "SELECT state, coalesce(wait_event_type || ':' || wait_event, 'on CPU') "
                    "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    (DATABASE,)).fetchall()
                self.samples += 1
                for state, wait in rows:
                    key = state if state and state.startswith("idle") else f"{state}, {wait}"
                    self.counts[key] = self.counts.get(key, 0) + 1

    def finish(self) -> list[str]:
        self._halt.set()
        self.join()
        if not self.samples:
            return []
        ranked = sorted(self.counts.items(), key=lambda item: -item[1])
        return [f"  {key:<48} {count / self.samples:>5.1f} connections on average"
                for key, count in ranked[:8]]
