"""Account forms. Field rules come from the domain modules; these classes only wire them in."""
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from blueprints.fields import (
    BooleanField,
    FastPasswordInput,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
)
from domain import id_numbers, passwords, person_names, phones


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def id_number_field(label="证件号码"):
    return StringField(label, filters=[_strip], render_kw={
        "autocomplete": "username", "maxlength": 40, "autocapitalize": "characters",
        "spellcheck": "false"})


def phone_field(label="手机号码"):
    return StringField(label, filters=[_strip], render_kw={
        "autocomplete": "tel", "inputmode": "numeric", "maxlength": 20})


def captcha_field():
    return StringField("图形验证码", filters=[_strip], render_kw={
        "autocomplete": "off", "maxlength": 8, "autocapitalize": "characters",
        "spellcheck": "false"})


def sms_code_field():
    return StringField("短信验证码", filters=[_strip], render_kw={
        "autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 6})


def new_password_field(label="密码"):
    # The value is sent back on a 422 so nothing typed is lost; pages are no-store.
    return PasswordField(label, widget=FastPasswordInput(hide_value=False), render_kw={
        "autocomplete": "new-password", "maxlength": 64})


def _required(form, field, message):
    if not field.data:
        raise ValidationError(message)


class IdentityMixin:
    def validate_id_number(self, field):
        id_type = getattr(self, "id_type", None)
        try:
            field.data = id_numbers.validate(id_type.data if id_type else id_numbers.RESIDENT_ID,
                                             field.data or "")
        except id_numbers.InvalidIdNumber as problem:
            raise ValidationError(str(problem)) from None

    def validate_phone(self, field):
        try:
            field.data = phones.validate(field.data or "")
        except phones.InvalidPhone as problem:
            raise ValidationError(str(problem)) from None


class NewPasswordMixin:
    """password + password2, checked against the rules and each other."""

    def _identity_for_password(self):
        return "", ""

    def validate_password(self, field):
        id_number, phone = self._identity_for_password()
        try:
            passwords.check_strength(field.data or "", id_number=id_number, phone=phone)
        except passwords.WeakPassword as problem:
            raise ValidationError(str(problem)) from None

    def validate_password2(self, field):
        if not field.data:
            raise ValidationError("请再次输入密码")
        if field.data != self.password.data:
            raise ValidationError("两次输入的密码不一致")


class SecondFactorForm(FlaskForm):
    sms_code = sms_code_field()

    def validate_sms_code(self, field):
        _required(self, field, "请填写短信中的6位验证码")


class LoginForm(FlaskForm):
    id_number = id_number_field()
    password = PasswordField("密码", render_kw={"autocomplete": "current-password",
                                              "maxlength": 64})
    captcha = captcha_field()
    next = HiddenField()

    def validate_id_number(self, field):
        field.data = id_numbers.normalise(field.data or "")
        _required(self, field, "请填写证件号码")

    def validate_password(self, field):
        _required(self, field, "请填写密码")

    def validate_captcha(self, field):
        _required(self, field, "请填写图形验证码")


class RegisterForm(IdentityMixin, NewPasswordMixin, FlaskForm):
    id_type = SelectField("证件类型", choices=[SelectChoice(t, t) for t in id_numbers.ID_TYPES],
                          default=id_numbers.RESIDENT_ID)
    id_number = id_number_field()
    name = StringField("姓名", filters=[_strip], render_kw={"autocomplete": "name",
                                                          "maxlength": 30})
    phone = phone_field()
    captcha = captcha_field()
    sms_code = sms_code_field()
    password = new_password_field()
    password2 = new_password_field("确认密码")
    consent = BooleanField("我已阅读并同意《个人信息保护告知书》")

    def _identity_for_password(self):
        return (id_numbers.normalise(self.id_number.data or ""),
                (self.phone.data or "").strip())

    def validate_name(self, field):
        try:
            field.data = person_names.validate(field.data or "")
        except person_names.InvalidName as problem:
            raise ValidationError(str(problem)) from None

    def validate_sms_code(self, field):
        _required(self, field, "请填写短信验证码（先点击“获取验证码”）")

    def validate_consent(self, field):
        if not field.data:
            raise ValidationError("请阅读并勾选同意《个人信息保护告知书》")


class ForgotPasswordForm(IdentityMixin, NewPasswordMixin, FlaskForm):
    id_number = id_number_field()
    phone = phone_field("绑定的手机号码")
    captcha = captcha_field()
    sms_code = sms_code_field()
    password = new_password_field("新密码")
    password2 = new_password_field("确认新密码")

    def _identity_for_password(self):
        return (id_numbers.normalise(self.id_number.data or ""),
                (self.phone.data or "").strip())

    def validate_id_number(self, field):
        field.data = id_numbers.normalise(field.data or "")
        _required(self, field, "请填写证件号码")

    def validate_sms_code(self, field):
        _required(self, field, "请填写短信验证码（先点击“获取验证码”）")


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    old_password = PasswordField("当前密码", render_kw={"autocomplete": "current-password",
                                                     "maxlength": 64})
    password = new_password_field("新密码")
    password2 = new_password_field("确认新密码")

    def __init__(self, account=None, **kwargs):
        super().__init__(**kwargs)
        self._account = account

    def _identity_for_password(self):
        return (self._account.id_number, self._account.phone or "") if self._account else ("", "")

    def validate_old_password(self, field):
        _required(self, field, "请填写当前密码")


class ChangePhoneForm(IdentityMixin, FlaskForm):
    current_password = PasswordField("登录密码", render_kw={"autocomplete": "current-password",
                                                        "maxlength": 64})
    phone = phone_field("新手机号码")
    captcha = captcha_field()
    sms_code = sms_code_field()

    def validate_current_password(self, field):
        _required(self, field, "请填写登录密码")

    def validate_sms_code(self, field):
        _required(self, field, "请填写短信验证码（先点击“获取验证码”）")


class BindPhoneForm(IdentityMixin, NewPasswordMixin, FlaskForm):
    phone = phone_field("本人手机号码")
    captcha = captcha_field()
    sms_code = sms_code_field()
    password = new_password_field("新密码")
    password2 = new_password_field("确认新密码")

    def __init__(self, account=None, **kwargs):
        super().__init__(**kwargs)
        self._account = account

    def _identity_for_password(self):
        return (self._account.id_number if self._account else "",
                (self.phone.data or "").strip())

    def validate_sms_code(self, field):
        _required(self, field, "请填写短信验证码（先点击“获取验证码”）")


class WeChatStartForm(FlaskForm):
    """微信一键登录: a POST with the CSRF token starts WeChat's authorisation."""
    next = HiddenField()


class WeChatBindForm(FlaskForm):
    """绑定微信 by the password again."""
    password = PasswordField("登录密码", render_kw={"autocomplete": "current-password",
                                                "maxlength": 64})
    next = HiddenField()

    def validate_password(self, field):
        _required(self, field, "请填写登录密码")


class WeChatBindSmsForm(FlaskForm):
    """绑定微信 by a code sent to the account's bound phone (the phone is not typed)."""
    captcha = captcha_field()
    sms_code = sms_code_field()
    next = HiddenField()

    def validate_sms_code(self, field):
        _required(self, field, "请填写短信验证码（先点击“获取验证码”）")


class WeChatUnbindForm(FlaskForm):
    pass
