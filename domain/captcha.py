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


class _Captcha(ImageCaptcha):
    # The library pastes each letter with an opacity of 1.97 × its colour's lightness, so only
    # pale letters come out solid; 4 × lets the dark ink of _ink() come out solid too.
    lookup_table = [min(255, 4 * i) for i in range(256)]


# Drawn at twice the size it is shown (150×56 CSS px, templates/_forms.html): sharp on phones.
_image = _Captcha(width=300, height=112, font_sizes=(76, 84, 92))
_colours = secrets.SystemRandom()


def _ink() -> tuple[int, int, int, int]:
    """A random dark colour (lightness 64–96 of 255): 5:1 or more on the library's light
    background (238–255), as the MIIT 适老化 rules ask of text in images (4.5:1)."""
    while True:
        red, green, blue = (_colours.randint(30, 120) for _ in range(3))
        if 64 <= 0.299 * red + 0.587 * green + 0.114 * blue <= 96:
            return red, green, blue, 255


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
    return _image.generate(answer, format="png", fg_color=_ink()).getvalue()


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
