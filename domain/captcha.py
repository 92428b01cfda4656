"""Image captchas, solved before every SMS send and every login.

The challenge lives in the signed session cookie as an HMAC of the answer with a nonce; the
answer itself is never stored. Answering spends the challenge: it leaves the session and its nonce
is recorded, so replaying an old cookie does not bring it back.
"""
import hashlib
import hmac
import secrets
import time
from datetime import timedelta

import sqlalchemy as sa
from captcha.image import ImageCaptcha

from extensions import db
from models import SpentCaptcha, utcnow

SESSION_KEY = "captcha"
# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: letters people misread on a small screen.
ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
LENGTH = 4
_image = ImageCaptcha(width=150, height=56, font_sizes=(38, 42, 46))


def _digest(secret_key: str, nonce: str, answer: str) -> str:
    message = f"{nonce}:{answer.strip().upper()}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def new_challenge(store, secret_key: str, ttl_seconds: int) -> bytes:
    """Put a fresh challenge in `store` (the session) and return its PNG."""
    answer = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    nonce = secrets.token_hex(16)
    store[SESSION_KEY] = {
        "nonce": nonce,
        "digest": _digest(secret_key, nonce, answer),
        "expires": int(time.time()) + ttl_seconds,
    }
    return _image.generate(answer, format="png").getvalue()


def check(store, answer: str, secret_key: str, test_answer: str | None = None) -> bool:
    """Spend the challenge in `store` and say whether `answer` solved it."""
    challenge = store.pop(SESSION_KEY, None)
    if test_answer and (answer or "").strip().upper() == test_answer.upper():
        return True
    if not challenge or not answer or challenge.get("expires", 0) < time.time():
        return False
    if not _spend(challenge["nonce"]):
        return False
    return hmac.compare_digest(challenge["digest"], _digest(secret_key, challenge["nonce"], answer))


def _spend(nonce: str) -> bool:
    """Record the nonce; False when it was spent before (a replayed cookie)."""
    try:
        with db.session.begin_nested():
            db.session.add(SpentCaptcha(nonce=nonce))
    except sa.exc.IntegrityError:
        return False
    db.session.commit()
    return True


def purge_spent(older_than: timedelta = timedelta(hours=1)) -> int:
    """Nonces older than any challenge's life can go."""
    result = db.session.execute(
        sa.delete(SpentCaptcha).where(SpentCaptcha.spent_at < utcnow() - older_than))
    db.session.commit()
    return result.rowcount
