#!/usr/bin/env python3
"""The deadline surge: locust's mixed users against the prod-local shape through nginx, in
stages of more and more users, beside a bare Flask "hello" app driven by the same generator.

    .venv/bin/python bench/surge/surge.py [--stages 25:30,50:30,100:30,300:45] [--processes 1]

Prints, for each stage, req/s and p50/p95/p99 with the error count; for the top stage each
endpoint; the CPU of each process group (nginx, gunicorn, the worker, PostgreSQL, Redis, locust)
from /proc; py-spy's hottest functions in the gunicorn workers; the hello baseline through the
same nginx and direct; an estimate of what a second app host would add. Asserts nothing.
The load average is printed beside every number (the machine has 2 shared cores)."""
import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report  # noqa: E402
import shape  # noqa: E402
from shape import log  # noqa: E402

TARGET_RATE, TARGET_P95 = 300, 300
HELLO_HTTPS_PORT, HELLO_HTTP_PORT, HELLO_APP_PORT = 9444, 9081, 9002


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stages", default="25:30,50:30,100:30,300:45",
                        help="users:seconds of each measured stage (default 25:30,50:30,100:30,"
                             "300:45)")
    parser.add_argument("--settle", type=int, default=10,
                        help="seconds at the start of each stage left out of its numbers")
    parser.add_argument("--profile-seconds", type=int, default=24,
                        help="an extra stage at the top load, py-spy on the gunicorn workers")
    parser.add_argument("--hello-seconds", type=int, default=20)
    parser.add_argument("--hello-users", type=int, default=64)
    parser.add_argument("--processes", type=int, default=1, help="locust --processes")
    parser.add_argument("--sitting", type=int, default=1500)
    parser.add_argument("--background", type=int, default=100_000)
    parser.add_argument("--workers", default="", help="WEB_CONCURRENCY (default: CPUs + 1)")
    parser.add_argument("--threads", default="", help="GUNICORN_THREADS (default 4)")
    parser.add_argument("--fresh", action="store_true",
                        help="drop the bench database first (PROD_LOCAL_FRESH=1): it grows a "
                             "few hundred MB a run")
    parser.add_argument("--keep-up", action="store_true", help="leave prod-local running")
    return parser.parse_args()


# -- the hello baseline: the same gunicorn settings, the same nginx site ------------------------

def start_hello(workers: int, threads: int, folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "logs").mkdir(exist_ok=True)
    app = subprocess.Popen(
        [str(shape.APP_VENV / "gunicorn"), "-k", "gthread", "-w", str(workers), "--threads",
         str(threads), "--keep-alive", "75", "-b", f"127.0.0.1:{HELLO_APP_PORT}",
         "--chdir", str(shape.ROOT / "bench"), "hello_app:app"],
        stdout=subprocess.DEVNULL, stderr=open(folder / "logs" / "gunicorn.log", "w"),
        start_new_session=True)
    env = dict(os.environ, SERVER_NAME="127.0.0.1", TLS_CERT=str(shape.CA),
               TLS_KEY=str(shape.RUN / "tls" / "key.pem"), STATIC_ROOT=str(shape.ROOT / "static"),
               UPSTREAM=f"127.0.0.1:{HELLO_APP_PORT}",
               HTTPS_LISTEN=f"127.0.0.1:{HELLO_HTTPS_PORT}",
               HTTP_LISTEN=f"127.0.0.1:{HELLO_HTTP_PORT}", HTTPS_PORT_SUFFIX=f":{HELLO_HTTPS_PORT}")
    (folder / "nginx").mkdir(exist_ok=True)
    site = subprocess.run([str(shape.ROOT / "deploy" / "nginx" / "render.sh")], env=env,
                          capture_output=True, text=True, check=True).stdout
    (folder / "nginx" / "site.conf").write_text(site)
    main = (shape.ROOT / "deploy" / "local" / "nginx-main.conf").read_text()
    (folder / "nginx" / "nginx.conf").write_text(main.replace("@RUN@", str(folder)))
    subprocess.run(["nginx", "-c", str(folder / "nginx" / "nginx.conf"), "-p",
                    str(folder / "nginx")], check=True)
    time.sleep(2)
    return app


def stop_hello(app, folder: Path):
    subprocess.run(["nginx", "-c", str(folder / "nginx" / "nginx.conf"), "-p",
                    str(folder / "nginx"), "-s", "quit"], capture_output=True)
    shape.stop(app)


def hello_run(plan: Path, folder: Path, host: str, args) -> dict:
    cpu_before, started = shape.children_cpu(), time.time()
    process = shape.locust(plan, folder, users=args.hello_users, seconds=args.hello_seconds,
                           host=host, classes=["HelloUser"], env={"SURGE_HELLO": "1"},
                           processes=args.processes, spawn_rate=args.hello_users)
    process.wait()
    generator = (shape.children_cpu() - cpu_before) / (time.time() - started)
    rows = report.requests_of(folder)
    start = rows[0].at + 3 if rows else 0
    end = rows[-1].at if rows else 0
    return {"summary": report.summary(report.between(rows, start, end), end - start),
            "generator": generator}


def profile(folder: Path, seconds: int, say) -> None:
    """py-spy on the gunicorn workers: every thread's stacks, then only the GIL holder's."""
    for name, extra in (("pyspy.txt", []), ("pyspy-gil.txt", ["--gil"])):
        spy = subprocess.run(
            [str(shape.BENCH_VENV / "py-spy"), "record", "--pid", str(shape.pid_of("gunicorn.pid")),
             "--subprocesses", "--nolineno", "--rate", "50", "--format", "raw", "--duration",
             str(seconds), "--output", str(folder / name), *extra], capture_output=True, text=True)
        if spy.returncode != 0:
            say(f"py-spy: {spy.stderr.strip()[-300:]}")


# -- the run -------------------------------------------------------------------------------

def main():
    args = parse_args()
    stages = [tuple(int(n) for n in part.split(":")) for part in args.stages.split(",")]
    top_users = stages[-1][0]
    all_stages = stages + ([(top_users, args.profile_seconds)] if args.profile_seconds else [])
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = shape.RUN / "runs" / f"surge-{stamp}"
    out = []

    def say(line=""):
        out.append(line)
        print(line, flush=True)

    say(f"surge run {stamp}; load average before: {shape.loadavg()}")
    extra = {name: value for name, value in (("WEB_CONCURRENCY", args.workers),
                                             ("GUNICORN_THREADS", args.threads)) if value}
    if args.fresh:
        extra["PROD_LOCAL_FRESH"] = "1"
    env = shape.up(extra)
    plan_path = folder / "plan.json"
    plan = shape.seed(plan_path, Path(env["SMS_OUTBOX"]), sitting=args.sitting,
                      background=args.background)
    workers = int(args.workers or (os.cpu_count() or 1) + 1)
    threads = int(args.threads or 4)

    sampler = shape.CpuSampler()
    sampler.watch("nginx", shape.pid_of("nginx.pid"))
    sampler.watch("gunicorn workers", shape.pid_of("gunicorn.pid"))
    sampler.watch("job worker (flask jobs work)", shape.pid_of("worker.pid"))
    sampler.start()

    log(f"surge: stages {all_stages} (the last one profiled), load average {shape.loadavg()}")
    stage_spec = ",".join(f"{u}:{s}" for u, s in all_stages)
    cpu_before, started = shape.children_cpu(), time.time()
    process = shape.locust(plan_path, folder / "surge", stages=stage_spec,
                           processes=args.processes)
    sampler.watch("locust (load generator)", process.pid)
    loads, profiler_cpu = [], 0.0
    waits, database_waits = None, []
    elapsed = 0
    for index, (_users, seconds) in enumerate(all_stages):
        elapsed += seconds
        if index == len(stages) - 1:
            waits = shape.PostgresWaits()
            time.sleep(max(0.0, started + elapsed - seconds + args.settle - time.time()))
            waits.start()
        if index == len(stages) and waits is not None:
            database_waits = waits.finish()
            waits = None
        if index == len(all_stages) - 1 and args.profile_seconds:
            time.sleep(max(0.0, started + elapsed - seconds + 2 - time.time()))
            before = shape.children_cpu()
            profile(folder, max(3, (seconds - 4) // 2), say)
            profiler_cpu = shape.children_cpu() - before
        time.sleep(max(0.0, started + elapsed - time.time()))
        loads.append(shape.loadavg())
    process.wait()
    if waits is not None:
        database_waits = waits.finish()
    generator_run = (shape.children_cpu() - cpu_before - profiler_cpu) / (time.time() - started)
    rows = report.requests_of(folder / "surge")
    t0 = rows[0].at if rows else started

    say()
    say(f"== the surge through nginx (https://127.0.0.1:{shape.HTTPS_PORT}): gunicorn {workers} "
        f"workers × {threads} threads, locust --processes {args.processes}, think time "
        f"{os.environ.get('SURGE_THINK', '0.5,1.5')} s per step")
    say(f"   data: {plan['applications']} applications; {len(plan['applicants'])} sittings "
        f"prepared, {len(plan['reviewers'])} reviewers; the first {args.settle} s of each stage "
        f"left out")
    windows, offset = [], 0
    for index, (users, seconds) in enumerate(stages):
        start, end = t0 + offset + args.settle, t0 + offset + seconds
        offset += seconds
        windows.append((start, end))
        stage = report.summary(report.between(rows, start, end), end - start)
        say(report.one_line(f"  stage {index + 1}, {users} users", stage) +
            f"  [load average {loads[index]}]")
    held = [(index, report.summary(report.between(rows, start, end), end - start))
             for index, (start, end) in enumerate(windows)]
    held = [(index, s) for index, s in held if s["p95"] < TARGET_P95 and not s["errors"]]
    if held:
        index, best = max(held, key=lambda item: item[1]["rate"])
        say(f"  the most this box held with p95 < {TARGET_P95} ms and no error: "
            f"{best['rate']:.0f} req/s (stage {index + 1}, {stages[index][0]} users)")
    else:
        say(f"  no stage held p95 < {TARGET_P95} ms without errors")
    top_start, top_end = windows[-1]
    top = report.summary(report.between(rows, top_start, top_end), top_end - top_start)
    say()
    say(f"== top stage ({top_users} users) by endpoint, ms [load average {loads[len(stages) - 1]}]")
    for line in report.endpoint_table(report.between(rows, top_start, top_end),
                                      top_end - top_start):
        say(line)
    say(f"   targets: ≥ {TARGET_RATE} req/s mixed (measured {top['rate']:.0f}), p95 < "
        f"{TARGET_P95} ms (measured {top['p95']:.0f}), 0 errors (measured {top['errors']})")
    say()
    say("== where the CPU went in the top stage (/proc, utime + stime per process)")
    for line in shape.cpu_table(sampler, top_start, top_end):
        say(line)
    wall, busy, groups = sampler.usage(top_start, top_end)
    generator = groups.get("locust (load generator)", 0.0)
    say(f"   load generator: {generator / wall:.2f} cores = {generator / wall * 100:.0f} % of one "
        f"core, {generator / busy * 100:.0f} % of the machine's busy time in the top stage; over "
        f"the whole run (getrusage of the locust process tree) {generator_run * 100:.0f} % of "
        "one core")

    say()
    say("== what our database's connections were doing in the top stage (pg_stat_activity, "
        "sampled every second)")
    for line in database_waits:
        say(line)

    say()
    say(f"== py-spy on the gunicorn workers at {top_users} users (an extra stage, not in the "
        "numbers above); first every thread's stack (wall time: waits included)")
    for line in report.pyspy_summary(folder / "pyspy.txt"):
        say(line)
    say("   then only the thread holding the GIL (Python's own CPU; argon2, Pillow's codecs and "
        "libpq release the GIL, so they shrink here)")
    for line in report.pyspy_summary(folder / "pyspy-gil.txt", top=8):
        say(line)

    hello_folder = shape.RUN / "hello"
    app = start_hello(workers, threads, hello_folder)
    try:
        through_nginx = hello_run(plan_path, folder / "hello-nginx",
                                  f"https://127.0.0.1:{HELLO_HTTPS_PORT}", args)
        direct = hello_run(plan_path, folder / "hello-direct", f"http://127.0.0.1:{HELLO_APP_PORT}",
                           args)
    finally:
        stop_hello(app, hello_folder)
    sampler.finish()
    say()
    say(f"== baseline: bench/hello_app.py under the same gunicorn settings, {args.hello_users} "
        f"users without pause, same generator [load average {shape.loadavg()}]")
    for label, result in (("  hello through nginx + TLS", through_nginx),
                          ("  hello direct (plain HTTP)", direct)):
        say(report.one_line(label, result["summary"]) +
            f"; load generator {result['generator'] * 100:.0f} % of one core")
    say(f"  the app's mix is {top['rate'] / max(1.0, through_nginx['summary']['rate']) * 100:.0f} % "
        "of hello's rate through the same nginx")

    say()
    say("== a second app host (estimate from the CPU above)")
    for line in second_host(top, wall, busy, groups):
        say(line)
    say()
    say("Per-address limits (LOGIN_IP_LIMIT, REGISTER_IP_LIMIT, RESET_IP_LIMIT, SMS_IP_LIMITS) "
        "were raised for this run: every load user comes from 127.0.0.1. SMS per-phone limits "
        "are the product's.")
    say(f"load average after: {shape.loadavg()}; logs and plan: {folder}")
    results = shape.ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / f"surge-{stamp}.txt").write_text("\n".join(out) + "\n", encoding="utf-8")
    if not args.keep_up:
        shape.down()


def second_host(top: dict, wall: float, busy: float, groups: dict) -> list[str]:
    """From CPU per request: this box alone (without the generator, which in production is the
    phones), and with a second 2-core host running gunicorn, both at 80 % CPU."""
    requests = top["rate"] * wall
    if not requests:
        return ["  (no requests)"]
    app = sum(v for k, v in groups.items() if k.startswith("gunicorn")) / requests
    rest = sum(v for k, v in groups.items() if not k.startswith(("gunicorn", "locust", "other"))
               ) / requests
    usable = (os.cpu_count() or 1) * 0.8
    alone = usable / (app + rest)
    # This box keeps nginx, PostgreSQL, Redis, the worker and part of the app traffic; the other
    # host runs gunicorn only: R·rest + R·f·app ≤ C and R·(1 − f)·app ≤ C.
    with_second = min(2 * usable / (app + rest), usable / rest if rest else float("inf"))
    bound = "then this box's nginx + PostgreSQL share is the limit" \
        if with_second < 2 * usable / (app + rest) else "the two hosts' CPU together"
    return [
        f"  CPU per request: gunicorn {app * 1000:.1f} ms; nginx, PostgreSQL, Redis and the job "
        f"worker {rest * 1000:.1f} ms (other people's processes left out)",
        f"  this box alone, without the generator: ≈ {alone:.0f} req/s of this mix",
        f"  with a second 2-core host running gunicorn: ≈ {with_second:.0f} req/s "
        f"({bound})",
    ]


if __name__ == "__main__":
    main()
