"""Where jobs run. Each runner has `push(job_id, kind)`: "this job may run now" (the kind tells
its lane, jobs.handlers.lane)."""
import logging
import queue
import threading

from jobs.execution import run_job

log = logging.getLogger("jobs")
SWEEP_SECONDS = 2.0


class InlineRunner:
    """Runs the job at once, in a fresh app context (its own database session), right after the
    commit that queued it, and its retries too while they are due (JOB_RETRY_DELAYS of 0):
    tests see the work done, or failed, when the request returns."""

    def __init__(self, app):
        self.app = app

    def push(self, job_id: int, kind: str = "") -> None:
        from extensions import db
        from models import Job, JobStatus, utcnow
        with self.app.app_context():
            while True:
                run_job(job_id)
                job = db.session.get(Job, job_id)
                if job is None or job.status != JobStatus.QUEUED or job.run_after > utcnow():
                    return


class ThreadRunner:
    """One background thread in this process: the embedded default, so `make run` needs no
    Redis and no worker. Started on the first push; it also sweeps every few seconds."""

    def __init__(self, app):
        self.app = app
        self.queue: queue.Queue[int] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def push(self, job_id: int, kind: str = "") -> None:
        self._start()
        self.queue.put(job_id)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="jobs", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        from jobs.queue import sweep
        while True:
            try:
                job_id = self.queue.get(timeout=SWEEP_SECONDS)
            except queue.Empty:
                job_id = None
            try:
                with self.app.app_context():
                    if job_id is not None:
                        run_job(job_id)
                    else:
                        sweep(self.push)
            except Exception:  # noqa: BLE001 — the thread must outlive a database outage
                log.exception("job thread")


class RqRunner:
    """Production: RQ on Redis rings `flask jobs work`. If Redis cannot be reached the row waits
    and the worker's sweeper rings for it once Redis is back."""

    def __init__(self, app):
        from redis import Redis
        from rq import Queue
        self.redis = Redis.from_url(app.config["REDIS_URL"], socket_timeout=2,
                                    socket_connect_timeout=2)
        self.queue = Queue(app.config["JOB_QUEUE"], connection=self.redis)
        self.slow_queue = Queue(app.config["JOB_QUEUE"] + "-slow", connection=self.redis)
        self.timeout = app.config["JOB_TIMEOUT_SECONDS"]

    @property
    def queues(self):
        """In the order a worker takes them: the quick lane first."""
        return [self.queue, self.slow_queue]

    def push(self, job_id: int, kind: str = "") -> None:
        from redis.exceptions import RedisError

        from jobs.handlers import lane
        queue = self.slow_queue if lane(kind) == "slow" else self.queue
        try:
            queue.enqueue("jobs.worker.run_pushed", job_id, job_timeout=self.timeout,
                               result_ttl=0, failure_ttl=86400)
        except RedisError as error:
            log.warning("job queue unreachable (%s); job %s waits for the sweeper",
                        type(error).__name__, job_id)


RUNNERS = {"inline": InlineRunner, "thread": ThreadRunner, "rq": RqRunner}
