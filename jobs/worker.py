"""`flask jobs work`: the production worker. An RQ SimpleWorker (jobs run in this process, so
what a job loads once — fonts, OCR models — stays loaded) listening on JOB_QUEUE and, after it,
JOB_QUEUE-slow (jobs.handlers.SLOW_KINDS), and beside it
a sweeper thread that rings for due retries and for jobs whose first ring was lost, and starts
the periodic jobs. Several workers may run: a short Redis lock lets one sweep at a time."""
import logging
import threading
import time

from jobs.execution import run_job

log = logging.getLogger("jobs.worker")
_app = None
SWEEP_SECONDS = 2.0
SWEEP_LOCK = "kjxx:jobs:sweeper"


def run_pushed(job_id: int) -> None:
    """What RQ calls: run one job in a fresh app context (its own database session)."""
    with _app.app_context():
        run_job(job_id)


def _sweep_forever(app, runner, stop: threading.Event) -> None:
    from jobs.periodic import start_due
    from jobs.queue import sweep
    while not stop.wait(SWEEP_SECONDS):
        try:
            if not runner.redis.set(SWEEP_LOCK, "1", nx=True, px=int(SWEEP_SECONDS * 1000)):
                continue
            with app.app_context():
                sweep(runner.push)
                start_due(runner.redis)
        except Exception as error:  # noqa: BLE001 — Redis or PostgreSQL away: try again
            log.warning("sweeper: %s: %s", type(error).__name__, str(error)[:200])


def work(app, burst: bool = False) -> None:
    """Serve jobs until stopped (SIGTERM lets the current job finish). Survives Redis outages."""
    global _app
    from redis.exceptions import RedisError
    from rq import SimpleWorker
    _app = app
    runner = app.extensions["jobs"]
    stop = threading.Event()
    sweeper = threading.Thread(target=_sweep_forever, args=(app, runner, stop),
                               name="jobs-sweeper", daemon=True)
    sweeper.start()
    try:
        while True:
            try:
                worker = SimpleWorker(runner.queues, connection=runner.redis)
                worker.work(burst=burst, logging_level="WARNING")
                return
            except RedisError as error:
                log.warning("worker lost Redis (%s); retrying in 2 s", type(error).__name__)
                time.sleep(2)
    finally:
        stop.set()
