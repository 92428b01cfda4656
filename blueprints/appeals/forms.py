"""Appeal forms: the person's filing (no account needed) and the staff's decision."""
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from blueprints.accounts.forms import (
    IdentityMixin,
    captcha_field,
    id_number_field,
    phone_field,
    sms_code_field,
)
from blueprints.fields import RadioField, SelectField, StringField
from domain import appeal_decisions, appeals, id_numbers, person_names
from models import AppealStatus


class AppealForm(IdentityMixin, FlaskForm):
    id_type = SelectField("证件类型", choices=[SelectChoice(t, t) for t in id_numbers.ID_TYPES],
                          default=id_numbers.RESIDENT_ID)
    id_number = id_number_field()
    name = StringField("姓名", filters=[lambda v: v.strip() if isinstance(v, str) else v],
                       render_kw={"autocomplete": "name", "maxlength": 30})
    phone = phone_field("新手机号码")
    captcha = captcha_field()
    sms_code = sms_code_field()
    statement = TextAreaField("申诉说明", render_kw={"maxlength": appeals.MAX_STATEMENT,
                                                     "rows": 5})

    def validate_name(self, field):
        try:
            field.data = person_names.validate(field.data or "")
        except person_names.InvalidName as problem:
            raise ValidationError(str(problem)) from None

    def validate_sms_code(self, field):
        if not field.data:
            raise ValidationError("请填写短信验证码（先点击“获取验证码”）")

    def validate_statement(self, field):
        try:
            field.data = appeals.check_statement(field.data)
        except appeals.AppealProblem as problem:
            raise ValidationError(problem.message) from None


class AppealDecisionForm(FlaskForm):
    outcome = RadioField("处理结果", choices=[SelectChoice(AppealStatus.APPROVED, "通过"),
                                          SelectChoice(AppealStatus.REJECTED, "不通过")],
                         validate_choice=False)
    reason = TextAreaField("不通过的原因", render_kw={"maxlength": appeal_decisions.MAX_REASON, "rows": 3})


class RevealForm(FlaskForm):
    pass
