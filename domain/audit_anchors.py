"""Anchors of the audit log's hash chain, kept outside its table.

The chain finds an edited or deleted row anywhere but at its end: whoever can delete the newest
rows (bypassing the triggers) leaves a shorter chain that is still whole. So every few minutes
the head of the chain — the newest row's id and hash — is written where the database cannot
rewrite it: the application log (line `AUDIT-ANCHOR {...}`, shipped off the host by the
operator's log collection), Redis (the last ANCHORS_KEPT anchors), and, when AUDIT_ANCHOR_FILE is
set, an append-only file the operator keeps. `flask audit verify` then checks that every anchor
it is given still names a row with the same hash."""
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from extensions import db
from models import AuditEntry, utcnow

log = logging.getLogger("audit.anchor")
REDIS_KEY = "kjxx:audit:anchors"
ANCHORS_KEPT = 10_000
LOG_PREFIX = "AUDIT-ANCHOR "


@dataclass(frozen=True)
class Anchor:
    id: int
    hash: str
    at: str  # when it was taken (UTC, ISO)


def head() -> Anchor | None:
    row = db.session.execute(sa.select(AuditEntry.id, AuditEntry.row_hash)
                             .order_by(AuditEntry.id.desc()).limit(1)).first()
    return Anchor(row.id, row.row_hash, utcnow().isoformat()) if row else None


def take() -> Anchor | None:
    """Write the chain's head to every place an anchor is kept; return it."""
    anchor = head()
    if anchor is None:
        return None
    line = json.dumps(asdict(anchor), sort_keys=True)
    log.info("%s%s", LOG_PREFIX, line)
    redis = _redis()
    if redis is not None:
        redis.lpush(REDIS_KEY, line)
        redis.ltrim(REDIS_KEY, 0, ANCHORS_KEPT - 1)
    path = current_app.config.get("AUDIT_ANCHOR_FILE")
    if path:
        with open(path, "a", encoding="utf-8") as kept:
            kept.write(line + "\n")
    return anchor


def take_job(job) -> dict:
    anchor = take()
    return asdict(anchor) if anchor else {"anchor": None}


def read(text: str) -> list[Anchor]:
    """Anchors from lines of a file or a log (any line with an anchor's JSON in it)."""
    anchors = []
    for line in text.splitlines():
        start = line.find("{", line.find(LOG_PREFIX) + 1 if LOG_PREFIX in line else 0)
        try:
            found = json.loads(line[start:])
            anchors.append(Anchor(int(found["id"]), str(found["hash"]), str(found["at"])))
        except (ValueError, KeyError, TypeError):
            continue
    return anchors


def kept() -> list[Anchor]:
    """The anchors this installation keeps itself: Redis and AUDIT_ANCHOR_FILE."""
    anchors = []
    redis = _redis()
    if redis is not None:
        anchors += read("\n".join(v.decode() for v in redis.lrange(REDIS_KEY, 0, -1)))
    path = current_app.config.get("AUDIT_ANCHOR_FILE")
    if path and Path(path).exists():
        anchors += read(Path(path).read_text(encoding="utf-8"))
    return anchors


def problems(anchors: list[Anchor]) -> list[str]:
    """Each anchor must still name a row of the table with the same hash."""
    found = []
    for anchor in sorted(set(anchors), key=lambda a: a.id):
        row_hash = db.session.scalar(sa.select(AuditEntry.row_hash)
                                     .where(AuditEntry.id == anchor.id))
        if row_hash is None:
            found.append(f"row {anchor.id} (anchored {anchor.at}) is missing: rows were removed "
                         "from the end of the log")
        elif row_hash != anchor.hash:
            found.append(f"row {anchor.id} (anchored {anchor.at}) no longer has its anchored "
                         "hash: the log was rewritten")
    return found


def _redis():
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    from redis import Redis
    return Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
