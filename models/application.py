import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.base import utcnow


class ApplicationStatus(enum.StrEnum):
    DRAFT = "draft"          # 未提交
    PENDING = "pending"      # 审核中
    APPROVED = "approved"    # 审核成功 (the record in force)
    REJECTED = "rejected"    # 审核失败
    SUPERSEDED = "superseded"  # 历史版本: an approved record a later change replaced
    WITHDRAWN = "withdrawn"  # 已撤回: a rejected change the person gave up


STATUS_LABELS = {
    ApplicationStatus.DRAFT: "未提交",
    ApplicationStatus.PENDING: "审核中",
    ApplicationStatus.APPROVED: "审核成功",
    ApplicationStatus.REJECTED: "审核失败",
    ApplicationStatus.SUPERSEDED: "历史版本",
    ApplicationStatus.WITHDRAWN: "已撤回",
}


class ApplicationKind(enum.StrEnum):
    FIRST = "first"          # 首次采集
    CHANGE = "change"        # 信息变更 (domain/changes.py)


KIND_LABELS = {ApplicationKind.FIRST: "首次采集", ApplicationKind.CHANGE: "信息变更"}
OPEN_STATUSES = ("draft", "pending", "rejected")


class Application(db.Model):
    """An accountant's collection (信息采集), and each later change (信息变更) as a new version of
    it: per account at most one open (being filled in, reviewed or fixed) and one approved."""

    __tablename__ = "applications"
    # The reviewer list filters by county, prefecture or province and orders by submission:
    # one index for each level, so the first and every following page are index range scans.
    __table_args__ = (
        sa.Index("ix_applications_jurisdiction_status", "jurisdiction_code", "status",
                 "submitted_at", "id"),
        sa.Index("ix_applications_prefecture_status", "prefecture_code", "status",
                 "submitted_at", "id"),
        sa.Index("ix_applications_status_submitted", "status", "submitted_at", "id"),
        # The province sees every application with a jurisdiction: the predicate lets the list
        # and its capped count be index scans (migration 0005).
        sa.Index("ix_applications_province_queue", "status", "submitted_at", "id",
                 postgresql_where=sa.text("jurisdiction_code IS NOT NULL"),
                 sqlite_where=sa.text("jurisdiction_code IS NOT NULL")),
        # The list filter 机器核对有疑点: one small partial index per jurisdiction level, holding
        # only the applications with a doubt, so its pages and capped count are range scans over
        # those rows however rare they are (migration 0011). Each predicate is written as each
        # database's planner matches it against the filter's SQL (SQLite compares "= 1").
        sa.Index("ix_applications_doubt_jurisdiction", "jurisdiction_code", "status",
                 "submitted_at", "id", postgresql_where=sa.text("precheck_doubt"),
                 sqlite_where=sa.text("precheck_doubt = 1")),
        sa.Index("ix_applications_doubt_prefecture", "prefecture_code", "status",
                 "submitted_at", "id", postgresql_where=sa.text("precheck_doubt"),
                 sqlite_where=sa.text("precheck_doubt = 1")),
        sa.Index("ix_applications_doubt_province", "status", "submitted_at", "id",
                 postgresql_where=sa.text("precheck_doubt AND jurisdiction_code IS NOT NULL"),
                 sqlite_where=sa.text("precheck_doubt = 1 AND jurisdiction_code IS NOT NULL")),
        # One open version and one record in force per account (migration 0014).
        sa.Index("uq_applications_one_open", "account_id", unique=True,
                 postgresql_where=sa.text("status IN ('draft', 'pending', 'rejected')"),
                 sqlite_where=sa.text("status IN ('draft', 'pending', 'rejected')")),
        sa.Index("uq_applications_one_record", "account_id", unique=True,
                 postgresql_where=sa.text("status = 'approved'"),
                 sqlite_where=sa.text("status = 'approved'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(12), default=ApplicationStatus.DRAFT)
    kind: Mapped[str] = mapped_column(sa.String(8), default=ApplicationKind.FIRST,
                                      server_default=ApplicationKind.FIRST.value)
    # A change: the approved version it starts from, and the parts (section keys) it changes.
    base_id: Mapped[int | None] = mapped_column(sa.ForeignKey("applications.id"))
    change_parts: Mapped[list | None] = mapped_column(sa.JSON)
    # 属地: the county whose finance bureau reviews; derived on the server from the work section.
    jurisdiction_code: Mapped[str | None] = mapped_column(sa.String(6),
                                                          sa.ForeignKey("regions.code"))
    # The prefecture of the jurisdiction, kept beside it for the prefecture reviewers' index.
    prefecture_code: Mapped[str | None] = mapped_column(sa.String(6))
    submitted_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    # A machine pre-check of one of its current pictures disagrees with what was typed (kept by
    # domain/prechecks.py whenever a result is stored or dropped): the reviewers' list filter.
    precheck_doubt: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    account = relationship("Account", lazy="joined")
    jurisdiction = relationship("Region", lazy="joined")
    sections = relationship("Section", back_populates="application", lazy="selectin",
                            cascade="all, delete-orphan")

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[ApplicationStatus(self.status)]

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[ApplicationKind(self.kind)]

    @property
    def is_change(self) -> bool:
        return self.kind == ApplicationKind.CHANGE

    @property
    def is_open_change(self) -> bool:
        """A change still being filled in, reviewed or fixed (approved, it is the record)."""
        return self.is_change and self.status in OPEN_STATUSES

    def section(self, key: str) -> "Section | None":
        return next((s for s in self.sections if s.key == key), None)


class Section(db.Model):
    """One section of an application: the last valid answers, and a draft of what was typed."""

    __tablename__ = "application_sections"
    __table_args__ = (sa.UniqueConstraint("application_id", "key", name="uq_section_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id"))
    key: Mapped[str] = mapped_column(sa.String(20))
    data: Mapped[dict | None] = mapped_column(sa.JSON)
    draft: Mapped[dict | None] = mapped_column(sa.JSON)
    completed: Mapped[bool] = mapped_column(default=False)
    # Reopened by a reviewer's rejection: 需修改 until saved again.
    needs_changes: Mapped[bool] = mapped_column(default=False)
    # Filled in from the archive of existing accountants, not yet checked and saved by the
    # person: counts as answered, and the page asks them to check it.
    from_archive: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    application = relationship("Application", back_populates="sections")
