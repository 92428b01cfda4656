"""What administrators may do about background jobs: see the failed ones, queue one again."""
import sqlalchemy as sa

from domain import audit
from extensions import db
from models import Job, JobStatus, utcnow

KIND_LABELS = {
    "sms.code": "短信验证码",
    "notice.decision": "审核结果通知",
    "notice.account_locked": "账号锁定通知",
    "review.export": "审核列表导出",
    "archive.import": "档案导入",
    "maintenance.purge": "过期数据清理",
    "audit.anchor": "审计日志锚点",
    "precheck.material": "材料机器核对",
    "rights.copy": "个人信息副本",
    "notice.rights_answer": "删除或更正请求答复通知",
}


def failed_jobs(limit: int = 200) -> list[Job]:
    return list(db.session.scalars(sa.select(Job).where(Job.status == JobStatus.FAILED)
                                   .order_by(Job.finished_at.desc()).limit(limit)))


def counts() -> dict[str, int]:
    rows = db.session.execute(sa.select(Job.status, sa.func.count()).group_by(Job.status))
    return {status: count for status, count in rows}


def retry(job_id: int, actor, ip: str) -> bool:
    """A failed job gets its attempts back and runs again after the commit."""
    from jobs.queue import ring_after_commit
    result = db.session.execute(
        sa.update(Job).where(Job.id == job_id, Job.status == JobStatus.FAILED)
        .values(status=JobStatus.QUEUED, attempts=0, run_after=utcnow(), pushed_at=None,
                finished_at=None))
    if result.rowcount != 1:
        db.session.rollback()
        return False
    audit.record("job.retry", actor=actor, ip=ip, details={"job": job_id})
    ring_after_commit(job_id, db.session.get(Job, job_id).kind)
    db.session.commit()
    return True
