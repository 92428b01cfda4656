"""The `state` of WeChat's web authorisation: the callback's CSRF protection.

A start (the 微信一键登录 button, or a bind the person just confirmed) makes a random state,
keeps it in the visitor's session and its SHA-256 in `wechat_states` with what it is for (log
in, or bind the logged-in account) and where to go next. The callback is accepted only with the
state this session holds, within STATE_MINUTES, and spends it: the session forgets it and the
row is marked spent by a conditional UPDATE, so neither a replayed cookie nor a reloaded
callback can use it again, and a callback another site made a visitor's browser open (with the
attacker's own code) is refused."""
import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from extensions import db
from models import WeChatState, utcnow

SESSION_KEY = "wechat_state"
STATE_MINUTES = 10
STATES_KEPT = timedelta(days=1)


class Intent(enum.StrEnum):
    LOGIN = "login"
    BIND_BY_PASSWORD = "bind-pw"  # the logged-in person typed their password again
    BIND_BY_SMS = "bind-sms"      # ... or a code sent to their bound phone


class StateRefused(Exception):
    """No state, another session's state, an old one, or one already used."""


@dataclass(frozen=True)
class Pending:
    intent: Intent
    account_id: int | None
    next_url: str | None

    @property
    def is_bind(self) -> bool:
        return self.intent != Intent.LOGIN

    @property
    def proof(self) -> str:
        return {Intent.BIND_BY_PASSWORD: "password", Intent.BIND_BY_SMS: "sms"}.get(self.intent, "")


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def begin(store, intent: Intent, next_url: str | None = None, account=None) -> str:
    """A new state for this session (`store`); the caller commits, then sends the browser to
    WeChat with it. 32 hex digits: within WeChat's rule (letters and digits, at most 128)."""
    state = secrets.token_hex(16)
    db.session.add(WeChatState(state_hash=_hash(state), intent=intent,
                               account_id=getattr(account, "id", None),
                               next_url=(next_url or None) and next_url[:300]))
    store[SESSION_KEY] = state
    return state


def take(store, given: str | None) -> Pending:
    """Spend the state the callback brought back, or raise StateRefused. Commits the spend:
    whatever happens next, this state is used."""
    expected = store.pop(SESSION_KEY, None)
    if not (isinstance(expected, str) and given and
            hmac.compare_digest(expected.encode(), given.encode())):
        raise StateRefused()
    now = utcnow()
    spent = db.session.execute(
        sa.update(WeChatState)
        .where(WeChatState.state_hash == _hash(given), WeChatState.spent_at.is_(None),
               WeChatState.created_at >= now - timedelta(minutes=STATE_MINUTES))
        .values(spent_at=now))
    if spent.rowcount != 1:
        db.session.rollback()
        raise StateRefused()
    row = db.session.get(WeChatState, _hash(given))
    pending = Pending(Intent(row.intent), row.account_id, row.next_url)
    db.session.commit()
    return pending


def purge(now) -> int:
    return db.session.execute(
        sa.delete(WeChatState).where(WeChatState.created_at < now - STATES_KEPT)).rowcount
