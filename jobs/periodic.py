"""Jobs that run on a schedule in production, started by the worker's sweeper: each at most
once per period across every worker (a Redis key per period)."""
from datetime import timedelta

from extensions import db
from jobs.queue import enqueue
from models import utcnow

# kind → period
SCHEDULE = {"maintenance.purge": timedelta(days=1), "audit.anchor": timedelta(minutes=5)}


def start_due(redis) -> None:
    now = utcnow()
    for kind, period in SCHEDULE.items():
        slot = int(now.timestamp() // period.total_seconds())
        key = f"kjxx:jobs:periodic:{kind}:{slot}"
        if redis.set(key, "1", nx=True, ex=int(period.total_seconds()) + 3600):
            enqueue(kind)
            db.session.commit()
