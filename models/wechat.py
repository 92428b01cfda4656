from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.base import utcnow


class WeChatBinding(db.Model):
    """An applicant's WeChat (the openid of our official account), bound after they proved the
    account by its password or an SMS code: a faster door to it, never the identity.

    The openid is found by `openid_digest` (a keyed HMAC of appid and openid) and kept only
    sealed (encrypted with a key derived from SECRET_KEY) for the template messages: the
    database alone, or a backup of it, tells nobody which WeChat user an accountant is."""

    __tablename__ = "wechat_bindings"
    __table_args__ = (sa.UniqueConstraint("appid", "openid_digest",
                                          name="uq_wechat_bindings_appid_openid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"), unique=True)
    appid: Mapped[str] = mapped_column(sa.String(32))
    openid_digest: Mapped[str] = mapped_column(sa.String(64))
    openid_sealed: Mapped[str] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    account = relationship("Account", lazy="joined")


class WeChatState(db.Model):
    """One start of WeChat's web authorisation: the `state` sent to WeChat, bound to the
    visitor's session (which holds the state itself; only its SHA-256 is stored) and spent by
    the callback that brings it back, once."""

    __tablename__ = "wechat_states"

    state_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    intent: Mapped[str] = mapped_column(sa.String(8))  # login | bind
    # bind: the logged-in account whose password or SMS code allowed it
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    next_url: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    spent_at: Mapped[datetime | None]
