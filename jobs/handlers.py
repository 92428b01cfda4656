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


def resolve(kind: str):
    module_name, _, function = HANDLERS[kind].partition(":")
    return getattr(importlib.import_module(module_name), function)
