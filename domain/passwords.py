"""Password rules (等保三级, humane) and argon2id hashing."""
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8
MAX_LENGTH = 64
_COMMON_FILE = Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"


class WeakPassword(ValueError):
    pass


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = _COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line and not line.startswith("#"))


def character_classes(password: str) -> int:
    return sum([
        any(c.islower() and c.isascii() for c in password),
        any(c.isupper() and c.isascii() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    ])


def check_strength(password: str, *, id_number: str = "", phone: str = "") -> None:
    """Raise WeakPassword with what to change; return None when the password is acceptable."""
    if not password:
        raise WeakPassword("请设置密码")
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise WeakPassword(f"密码长度应为{MIN_LENGTH}至{MAX_LENGTH}位")
    if character_classes(password) < 3:
        raise WeakPassword("密码须包含大写字母、小写字母、数字、符号中的至少三类")
    lowered = password.lower()
    if lowered in common_passwords():
        raise WeakPassword("这个密码太常见，容易被猜中，请换一个")
    if id_number and id_number.lower() in lowered:
        raise WeakPassword("密码不能包含证件号码")
    if phone and phone in password:
        raise WeakPassword("密码不能包含手机号码")


class Hasher:
    """argon2id with parameters from configuration."""

    def __init__(self, memory_cost=19456, time_cost=2, parallelism=1):
        self._hasher = PasswordHasher(
            memory_cost=memory_cost, time_cost=time_cost, parallelism=parallelism
        )
        self._dummy = self._hasher.hash("not-a-password")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """Constant work whether or not there is a stored hash, so unknown IDs take as long."""
        try:
            return self._hasher.verify(stored_hash or self._dummy, password) and bool(stored_hash)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)


def hasher_for(config) -> Hasher:
    return Hasher(config["ARGON2_MEMORY_COST"], config["ARGON2_TIME_COST"],
                  config["ARGON2_PARALLELISM"])
