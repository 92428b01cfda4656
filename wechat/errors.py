"""What can go wrong with WeChat, as exceptions the caller can tell apart.

Every one is a `WeChatError`: a caller that only wants "did it work" catches that and falls back
(to the password login, to SMS). `errcode` and `errmsg` are WeChat's own, when WeChat answered."""


class WeChatError(Exception):
    def __init__(self, message: str, errcode: int | None = None, errmsg: str = ""):
        super().__init__(message)
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatUnavailable(WeChatError):
    """WeChat did not answer usefully: busy (-1), a timeout, no connection, a 5xx, not JSON."""


class ConfigurationError(WeChatError):
    """Our side is wrong: appid or secret refused, server IP not on the whitelist, no permission."""


class CodeInvalid(WeChatError):
    """The authorisation code is unknown, expired or already used: start the authorisation again."""


class TokenRejected(WeChatError):
    """The app's access token was refused even after one refresh."""


class NotFollowing(WeChatError):
    """The person does not follow the official account, so it may not send them a message."""


class LimitReached(WeChatError):
    """The official account has used up today's quota for this call."""


class InvalidRecipient(WeChatError):
    """The openid does not belong to this official account."""


class TemplateInvalid(WeChatError):
    """The template id is not one of this official account's templates."""


BUSY = -1
TOKEN_REFUSED = frozenset({40001, 40014, 41001, 42001})

_BY_ERRCODE = {
    40029: CodeInvalid,  # invalid code (unknown or expired)
    40163: CodeInvalid,  # code been used
    41008: CodeInvalid,  # missing code
    40002: ConfigurationError,  # invalid grant_type
    40013: ConfigurationError,  # invalid appid
    40125: ConfigurationError,  # invalid appsecret
    40164: ConfigurationError,  # calling IP not on the official account's whitelist
    41002: ConfigurationError,  # appid missing
    41004: ConfigurationError,  # appsecret missing
    48001: ConfigurationError,  # the official account lacks permission for this API
    40001: TokenRejected,
    40014: TokenRejected,
    41001: TokenRejected,
    42001: TokenRejected,
    43004: NotFollowing,
    45009: LimitReached,
    40003: InvalidRecipient,
    40037: TemplateInvalid,
}


def error_for(errcode: int, errmsg: str) -> WeChatError:
    kind = WeChatUnavailable if errcode == BUSY else _BY_ERRCODE.get(errcode, WeChatError)
    return kind(f"wechat errcode {errcode}: {errmsg}", errcode, errmsg)
