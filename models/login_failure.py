from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db


class LoginFailure(db.Model):
    """Wrong passwords against an ID number that has no account (domain/login_lock.py), kept
    under a keyed hash of the number: the lock must look the same as a real account's."""

    __tablename__ = "login_failures"

    key_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None] = mapped_column(index=True)
