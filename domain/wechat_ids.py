"""How an openid is kept: found by a keyed digest, stored only sealed, never shown.

    digest(appid, openid) -> 64 hex digits: HMAC-SHA256, finds the binding at a one-tap login
    seal(openid)          -> text to store (Fernet: AES-128-CBC and HMAC-SHA256)
    unseal(sealed)        -> the openid for a template message; None if SECRET_KEY changed
    reference(digest)     -> 12 hex digits for the audit log: the same WeChat is recognisable
                             across rows, the openid is not in them

Both keys are derived from SECRET_KEY, which lives in the environment file, not the database:
a copy of the database alone does not say which WeChat user an accountant is. Changing
SECRET_KEY therefore ends every binding in effect (nobody is found, nothing unseals): people
log in with their password and bind again."""
import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


def _key(purpose: str) -> bytes:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"wechat-openid:{purpose}".encode(), hashlib.sha256).digest()


def digest(appid: str, openid: str) -> str:
    return hmac.new(_key("digest"), f"{appid}:{openid}".encode(), hashlib.sha256).hexdigest()


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_key("seal")))


def seal(openid: str) -> str:
    return _fernet().encrypt(openid.encode()).decode("ascii")


def unseal(sealed: str) -> str | None:
    try:
        return _fernet().decrypt(sealed.encode("ascii")).decode()
    except (InvalidToken, ValueError):
        return None


def reference(openid_digest: str) -> str:
    return "wx:" + openid_digest[:12]
