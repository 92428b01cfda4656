"""The initial password of an imported accountant (原有会计人员): the last 6 characters of the ID
number, as in the system we replace.

An imported account stores MARKER instead of a password hash: "the initial password, derived
from this account's ID number". Nothing derived from the ID number is stored, so the stored data
never lets in anyone who does not know the ID number, and the import computes no hash (argon2
per row would take hours for the province). MARKER is no argon2 hash, so any code that checks it
as one refuses it. It is honoured only while the account is still imported and held on the
bind-phone page, where the person binds a phone and sets a password of their own (then hashed)."""
import hashlib
import hmac
import unicodedata

MARKER = "!initial:last-6-of-id-number"


def derive(id_number: str) -> str:
    return id_number[-6:]


def is_pending(account) -> bool:
    return account.password_hash == MARKER and account.imported and account.must_bind_phone


def matches(account, typed: str) -> bool:
    """Constant time over equal-length digests; full-width digits and a lower-case x are the
    same characters to a person typing them."""
    if not is_pending(account):
        return False
    typed = unicodedata.normalize("NFKC", typed or "").strip().upper()
    expected = derive(account.id_number).upper()
    return hmac.compare_digest(hashlib.sha256(typed.encode()).digest(),
                               hashlib.sha256(expected.encode()).digest())
