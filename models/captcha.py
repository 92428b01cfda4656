from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.base import utcnow


class SpentCaptcha(db.Model):
    """Nonces of captchas already answered, so a replayed session cookie cannot reuse one."""

    __tablename__ = "spent_captchas"

    nonce: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    spent_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
