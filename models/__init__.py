"""Typed SQLAlchemy models. Import from here: `from models import Account`."""
from models.account import Account, Role
from models.appeal import Appeal, AppealKind, AppealPhoto, AppealStatus
from models.application import Application, ApplicationKind, ApplicationStatus, Section
from models.archive import ArchiveRecord
from models.audit import AuditEntry
from models.base import utcnow
from models.captcha import SpentCaptcha
from models.job import Job, JobStatus
from models.login_failure import LoginFailure
from models.login_session import LoginSession
from models.material import Material
from models.precheck import MaterialPrecheck
from models.region import Region, RegionLevel
from models.review import ReviewDecision
from models.rights_request import RightsRequest
from models.sms_code import SmsCode
from models.stored_file import StoredFile
from models.wechat import WeChatBinding, WeChatState

__all__ = [
    "Account", "Appeal", "AppealKind", "AppealPhoto", "AppealStatus", "Application", "ApplicationKind", "ApplicationStatus", "ArchiveRecord", "AuditEntry", "Job", "JobStatus", "LoginFailure", "LoginSession", "Material", "MaterialPrecheck", "Region", "RegionLevel", "ReviewDecision", "RightsRequest", "Role",
    "Section", "SmsCode", "SpentCaptcha", "StoredFile", "WeChatBinding", "WeChatState", "utcnow",
]
