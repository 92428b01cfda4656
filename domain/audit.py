"""The append-only audit log. Each row's hash covers its content and the previous row's hash,
so an edited or deleted row breaks the chain and `flask audit verify` finds it."""
import hashlib
import json

import sqlalchemy as sa

from extensions import db
from models import AuditEntry, utcnow

GENESIS = "0" * 64


def _row_hash(prev_hash: str, at, actor_id, actor, action, subject, ip, details) -> str:
    payload = json.dumps(
        [prev_hash, at.isoformat(timespec="microseconds"), actor_id, actor, action, subject, ip,
         details],
        ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _lock_chain() -> None:
    # Two writers must not chain onto the same previous row. SQLite serialises writers itself.
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(7310001)"))


def record(action: str, *, actor=None, subject: str = "", ip: str = "", details=None) -> None:
    """Append a row in the current transaction; the caller commits. Subjects must be masked."""
    _lock_chain()
    prev_hash = db.session.scalar(
        sa.select(AuditEntry.row_hash).order_by(AuditEntry.id.desc()).limit(1)) or GENESIS
    at = utcnow()
    actor_id = getattr(actor, "id", None)
    actor_label = _actor_label(actor)
    details_text = json.dumps(details or {}, ensure_ascii=False, sort_keys=True)
    entry = AuditEntry(
        at=at, actor_id=actor_id, actor=actor_label, action=action, subject=subject[:120],
        ip=(ip or "")[:45], details=details_text, prev_hash=prev_hash,
    )
    entry.row_hash = _row_hash(prev_hash, at, actor_id, actor_label, action, entry.subject,
                               entry.ip, details_text)
    db.session.add(entry)
    db.session.flush()


def _actor_label(actor) -> str:
    if actor is None:
        return "匿名"
    from domain.id_numbers import mask
    return f"{actor.role}:{mask(actor.id_number)}"


def verify() -> list[str]:
    """Every problem found in the chain, as sentences; an empty list means intact."""
    problems = []
    prev_hash = GENESIS
    rows = db.session.execute(sa.select(AuditEntry).order_by(AuditEntry.id)).scalars()
    for entry in rows:
        if entry.prev_hash != prev_hash:
            problems.append(f"row {entry.id}: previous-hash link broken (row deleted or reordered)")
        expected = _row_hash(entry.prev_hash, entry.at, entry.actor_id, entry.actor, entry.action,
                             entry.subject, entry.ip, entry.details)
        if entry.row_hash != expected:
            problems.append(f"row {entry.id}: content does not match its hash (row edited)")
        prev_hash = entry.row_hash
    return problems
