"""Which function does each kind of job: kind → "module:function". Resolved when a job runs, so
this list imports nothing and a newcomer finds every kind of background work in one place."""
import importlib

HANDLERS = {
    "sms.code": "domain.code_delivery:deliver_code",
    "notice.decision": "domain.notices:deliver_decision_notice",
    "notice.account_locked": "domain.notices:deliver_lock_notice",
    "review.export": "domain.exports:build_review_export",
    "archive.import": "domain.archive_uploads:run_import_job",
    "maintenance.purge": "domain.maintenance:purge_job",
    "audit.anchor": "domain.audit_anchors:take_job",
    "precheck.material": "domain.prechecks:run_check_job",
    "rights.copy": "domain.personal_copy:build_copy_job",
    "notice.rights_answer": "domain.rights_requests:deliver_answer_notice",
    "notice.appeal": "domain.appeal_decisions:deliver_notice",
}

# Work that takes seconds of CPU (reading a picture, building a file, an import) waits in a lane
# of its own: the RQ worker always takes the quick lane first, so a login code or a decision
# notice never queues behind a deadline's worth of photo checks (bench/surge measured the
# checks at a quarter of the machine).
SLOW_KINDS = frozenset({"precheck.material", "review.export", "archive.import", "rights.copy",
                        "maintenance.purge"})


def lane(kind: str) -> str:
    return "slow" if kind in SLOW_KINDS else "quick"


def resolve(kind: str):
    module_name, _, function = HANDLERS[kind].partition(":")
    return getattr(importlib.import_module(module_name), function)
