"""Background jobs: work that must not hold up a request (SMS and notice delivery, large
exports, the archive import, purges).

    job = enqueue("sms.code", phone=..., purpose=...)   # a row in the caller's transaction
    raise RetryLater("provider busy")                   # from a handler: try again later

The `jobs` row is written in the transaction that asks for the work, so if that commits the
work is recorded even when the queue is down; once it commits the runner is told to run it.
Which runner is JOB_BACKEND: `thread` (in this process: `make run` needs nothing else), `rq`
(`flask jobs work` through Redis: production) or `inline` (right after the commit: tests).
A job whose attempts are all spent stays `failed` and is listed for administrators.
Handlers are named in jobs/handlers.py; each takes the Job row and returns a small dict."""
from jobs.execution import RetryLater, run_job
from jobs.queue import enqueue, init_app, runner

__all__ = ["RetryLater", "enqueue", "init_app", "run_job", "runner"]
