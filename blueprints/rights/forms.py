"""The applicant's rights forms: closing the account, and a request to the finance bureau."""
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from blueprints.accounts.forms import sms_code_field
from blueprints.fields import BooleanField, RadioField
from domain.rights_requests import MAX_DETAILS
from models.rights_request import RequestKind


class CloseAccountForm(FlaskForm):
    sms_code = sms_code_field()
    confirm = BooleanField("我已了解：注销后账号和上面列出的全部信息立即删除，无法恢复")

    def validate_sms_code(self, field):
        if not field.data:
            raise ValidationError("请填写短信验证码（先点击“获取验证码”）")

    def validate_confirm(self, field):
        if not field.data:
            raise ValidationError("请勾选确认后再注销")


class RightsRequestForm(FlaskForm):
    kind = RadioField("请求内容", choices=[
        SelectChoice(RequestKind.CORRECTION, "更正我的信息"),
        SelectChoice(RequestKind.DELETION, "删除我的信息")], validate_choice=False)
    details = TextAreaField("需要删除或更正的内容和理由",
                            render_kw={"maxlength": MAX_DETAILS, "rows": 4})

    def validate_kind(self, field):
        if field.data not in tuple(RequestKind):
            raise ValidationError("请选择要更正还是删除")

    def validate_details(self, field):
        field.data = (field.data or "").strip()
        if not field.data:
            raise ValidationError("请写明需要删除或更正的内容和理由")
        if len(field.data) > MAX_DETAILS:
            raise ValidationError(f"最多{MAX_DETAILS}字")
