import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.base import utcnow


class Role(enum.StrEnum):
    APPLICANT = "applicant"
    REVIEWER = "reviewer"
    ADMIN = "admin"
    AUDITOR = "auditor"


ROLE_LABELS = {
    Role.APPLICANT: "申报人",
    Role.REVIEWER: "审核员",
    Role.ADMIN: "管理员",
    Role.AUDITOR: "审计员",
}


class Account(UserMixin, db.Model):
    """A person who logs in: an accountant (申报人) or a member of staff."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(sa.String(12), default=Role.APPLICANT, index=True)
    id_type: Mapped[str] = mapped_column(sa.String(20))
    id_number: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    phone: Mapped[str | None] = mapped_column(sa.String(11), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    # Imported accounts start with the initial password and no phone; they are held on the
    # bind-phone page until both are fixed.
    must_bind_phone: Mapped[bool] = mapped_column(default=False)
    # Staff start with a one-time password and must replace it at first login.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    region_code: Mapped[str | None] = mapped_column(sa.String(6), sa.ForeignKey("regions.code"))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    # Wrong passwords (domain/login_lock.py): the count, when its window began, the lock.
    failed_logins: Mapped[int] = mapped_column(default=0)
    failure_window_started_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]
    imported: Mapped[bool] = mapped_column(default=False)
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    region = relationship("Region", lazy="joined")

    # Set by the login-session loader; Flask-Login keeps this token, not the account id.
    session_token = None

    def get_id(self):
        return self.session_token

    @property
    def is_active(self):
        return self.is_enabled

    @property
    def is_staff(self) -> bool:
        return self.role != Role.APPLICANT

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[Role(self.role)]

    @property
    def birth_date(self) -> date | None:
        from domain.id_numbers import birth_date_of
        return birth_date_of(self.id_type, self.id_number)

    @property
    def gender(self) -> str | None:
        from domain.id_numbers import gender_of
        return gender_of(self.id_type, self.id_number)
