"""The four data sections as forms. Each form is the schema of what its section stores: only its
fields are read from a request, so account data, jurisdiction and status can never be set here.

Fields that apply only to some answers (在岗 or not, education 有 or 无, qualifications 有 or 无)
are validated and stored only when they apply (`relevant_names`)."""
import re
from datetime import date

from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError
from wtforms.widgets import ListWidget

from blueprints.fields import (
    FastCheckboxInput, RadioField, SelectField, SelectMultipleField, StringField,
)
from domain import choices, clock, credit_codes
from domain.regions import counties_of, division, prefectures
from models import RegionLevel

YES_NO = [SelectChoice("yes", "是"), SelectChoice("no", "否")]
HAS_NONE = [SelectChoice("no", "无"), SelectChoice("yes", "有")]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _options(values, blank="请选择"):
    return [SelectChoice("", blank)] + [SelectChoice(v, v) for v in values]


class DateInputField(StringField):
    """A date typed as YYYY-MM-DD (a native date picker on phones); empty means none."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {})
        kwargs["render_kw"].update(type="date", max="2099-12-31", min="1900-01-01")
        super().__init__(label, validators, filters=[_strip], **kwargs)

    @property
    def date_value(self) -> date | None:
        if not self.data:
            return None
        try:
            return date.fromisoformat(self.data.replace("/", "-"))
        except ValueError:
            return None


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = FastCheckboxInput()


def text(label, limit, **kwargs):
    render_kw = {"maxlength": limit}
    render_kw.update(kwargs.pop("render_kw", {}))
    return StringField(label, filters=[_strip], render_kw=render_kw, **kwargs)


def select(label, values, blank="请选择"):
    return SelectField(label, choices=_options(values, blank), validate_choice=False)


class ConditionalForm:
    """Validates only the fields that apply to the answers given."""

    def relevant_names(self) -> list[str]:
        return list(self._fields)

    def validate(self, extra_validators=None):
        ok = True
        for name in self.relevant_names():
            field = self._fields.get(name)
            if field is None:  # csrf_token when CSRF is off
                continue
            inline = getattr(type(self), f"validate_{name}", None)
            if not field.validate(self, [inline] if inline else []):
                ok = False
        return ok


def need(field, message):
    if not field.data:
        raise ValidationError(message)


def need_choice(field, allowed, message):
    if (field.data or "") not in allowed:
        raise ValidationError(message)


def max_length(field, limit):
    if field.data and len(field.data) > limit:
        raise ValidationError(f"最多{limit}个字，请精简")


def check_date(field, today, required_message=None, not_before=None, not_before_message=None):
    if not field.data:
        if required_message:
            raise ValidationError(required_message)
        return
    value = field.date_value
    if value is None:
        raise ValidationError("日期格式应为“年-月-日”，如2015-07-01")
    if value > today:
        raise ValidationError("日期不能晚于今天")
    if value.year < 1900:
        raise ValidationError("日期不正确，请核对年份")
    if not_before and value < not_before:
        raise ValidationError(not_before_message)
    field.data = value.isoformat()  # stored and shown as <input type=date> reads it


class RegionPair:
    """A prefecture select and a county select of that prefecture."""

    @staticmethod
    def prefecture_choices():
        return [SelectChoice("", "请选择州（市）")] + [
            SelectChoice(p.code, p.name) for p in prefectures()]

    @staticmethod
    def county_choices(prefecture_code):
        counties = counties_of(prefecture_code) if prefecture_code else []
        blank = "请选择县（市、区）" if counties else "请先选择州（市）"
        return [SelectChoice("", blank)] + [SelectChoice(c.code, c.name) for c in counties]

    @staticmethod
    def check(prefecture_field, county_field, message):
        county = division(county_field.data)
        if county is None or county.level != RegionLevel.COUNTY:
            raise ValidationError(message)
        if county.parent_code != prefecture_field.data:
            raise ValidationError("所选县（市、区）不属于所选州（市），请重新选择")


# 1. 基本信息 ------------------------------------------------------------------------------
class BasicForm(ConditionalForm, FlaskForm):
    gender = RadioField("性别", choices=[SelectChoice(g, g) for g in choices.GENDERS],
                        validate_choice=False)
    birth_date = DateInputField("出生日期")
    ethnicity = select("民族", choices.ETHNICITY_CHOICES)
    political_status = select("政治面貌", choices.POLITICAL_STATUSES, blank="请选择（选填）")
    address = text("通讯地址", 200, render_kw={"autocomplete": "address-line1"})
    email = text("电子邮箱", 100, render_kw={"autocomplete": "email", "inputmode": "email"})

    def __init__(self, *args, derived_identity=True, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.derived_identity = derived_identity
        self.today = today or clock.today()

    def relevant_names(self):
        names = ["csrf_token", "ethnicity", "political_status", "address", "email"]
        if not self.derived_identity:
            names[1:1] = ["gender", "birth_date"]
        return [n for n in names if n in self._fields]

    def validate_gender(self, field):
        need_choice(field, choices.GENDERS, "请选择性别")

    def validate_birth_date(self, field):
        check_date(field, self.today, "请填写出生日期")

    def validate_ethnicity(self, field):
        need_choice(field, choices.ETHNICITY_CHOICES, "请选择民族")

    def validate_political_status(self, field):
        need_choice(field, [""] + choices.POLITICAL_STATUSES, "请从列表中选择政治面貌")

    def validate_address(self, field):
        need(field, "请填写通讯地址，如：昆明市五华区某某路1号")
        max_length(field, 200)

    def validate_email(self, field):
        if not field.data:
            return
        max_length(field, 100)
        if not re.fullmatch(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}", field.data):
            raise ValidationError("电子邮箱格式不正确，如：name@example.com；没有可不填")


# 2. 工作信息 ------------------------------------------------------------------------------
class WorkForm(ConditionalForm, FlaskForm):
    employed = RadioField("是否在岗", choices=YES_NO, validate_choice=False)
    unit_name = text("工作单位名称", 100, render_kw={"autocomplete": "organization"})
    unit_credit_code = text("统一社会信用代码", 30, render_kw={
        "autocapitalize": "characters", "spellcheck": "false"})
    unit_type = select("单位性质", choices.UNIT_TYPES)
    unit_prefecture = SelectField("单位所在州（市）", validate_choice=False)
    unit_county = SelectField("单位所在县（市、区）", validate_choice=False)
    join_date = DateInputField("参加工作日期")
    accounting_start_date = DateInputField("从事会计工作日期")
    posts = MultiCheckboxField("会计岗位",
                               choices=[SelectChoice(p, p) for p in choices.ACCOUNTING_POSTS],
                               validate_choice=False)
    duty = select("职务", choices.DUTIES, blank="无（选填）")
    person_category = select("人员类别", choices.PERSON_CATEGORIES)
    collection_prefecture = SelectField("采集所在州（市）", validate_choice=False)
    collection_county = SelectField("采集所在县（市、区）", validate_choice=False)
    school_name = text("学校名称", 100)

    EMPLOYED_FIELDS = ["unit_name", "unit_credit_code", "unit_type", "unit_prefecture",
                       "unit_county", "join_date", "accounting_start_date", "posts", "duty"]
    NOT_EMPLOYED_FIELDS = ["person_category", "collection_prefecture", "collection_county",
                           "school_name"]

    def __init__(self, *args, birth_date=None, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.birth_date = birth_date
        self.today = today or clock.today()
        self.unit_prefecture.choices = RegionPair.prefecture_choices()
        self.collection_prefecture.choices = self.unit_prefecture.choices
        self.unit_county.choices = RegionPair.county_choices(self.unit_prefecture.data)
        self.collection_county.choices = RegionPair.county_choices(
            self.collection_prefecture.data)

    @property
    def is_employed(self):
        return self.employed.data == "yes"

    @property
    def is_student(self):
        return self.person_category.data == choices.STUDENT

    def relevant_names(self):
        names = ["csrf_token", "employed"]
        if self.employed.data == "yes":
            names += self.EMPLOYED_FIELDS
        elif self.employed.data == "no":
            names += self.NOT_EMPLOYED_FIELDS[:3] + (["school_name"] if self.is_student else [])
        return names

    def validate_employed(self, field):
        need_choice(field, ["yes", "no"], "请选择是否在岗")

    def validate_unit_name(self, field):
        need(field, "请填写工作单位名称（与单位公章一致）")
        max_length(field, 100)

    def validate_unit_credit_code(self, field):
        try:
            field.data = credit_codes.validate(field.data)
        except credit_codes.InvalidCreditCode as problem:
            raise ValidationError(str(problem)) from None

    def validate_unit_type(self, field):
        need_choice(field, choices.UNIT_TYPES, "请选择单位性质")

    def validate_unit_prefecture(self, field):
        need(field, "请选择单位所在州（市）")

    def validate_unit_county(self, field):
        RegionPair.check(self.unit_prefecture, field, "请选择单位所在县（市、区）")

    def validate_join_date(self, field):
        check_date(field, self.today)

    def validate_accounting_start_date(self, field):
        adult = _years_after(self.birth_date, 16) if self.birth_date else None
        check_date(field, self.today, "请填写从事会计工作日期", not_before=adult,
                   not_before_message="从事会计工作日期不能早于年满16周岁，请核对")

    def validate_posts(self, field):
        if not field.data:
            raise ValidationError("请至少选择一个会计岗位")
        if any(p not in choices.ACCOUNTING_POSTS for p in field.data):
            raise ValidationError("请从列表中选择会计岗位")
        field.data = list(dict.fromkeys(field.data))  # a post ticked twice is stored once

    def validate_duty(self, field):
        need_choice(field, [""] + choices.DUTIES, "请从列表中选择职务")

    def validate_person_category(self, field):
        need_choice(field, choices.PERSON_CATEGORIES, "请选择人员类别")

    def validate_collection_prefecture(self, field):
        need(field, "请选择采集所在州（市）")

    def validate_collection_county(self, field):
        RegionPair.check(self.collection_prefecture, field,
                         "请选择采集所在县（市、区）：学生选学校所在地，其他人员选户籍所在地或居住地")

    def validate_school_name(self, field):
        need(field, "在校学生请填写学校名称")
        max_length(field, 100)


def _years_after(born: date, years: int) -> date:
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # 29 February
        return born.replace(year=born.year + years, day=28)


# 3. 学历信息 ------------------------------------------------------------------------------
class EducationBlock(ConditionalForm, Form):
    has = RadioField("是否有此类学历", choices=HAS_NONE, default="no", validate_choice=False)
    level = select("学历", choices.EDUCATION_LEVELS)
    degree = select("学位", choices.DEGREES, blank="请选择（选填）")
    school = text("毕业院校", 100)
    major = text("所学专业", 100)
    graduated_on = DateInputField("毕业日期")
    certificate_number = text("学历证书编号", 40, render_kw={"spellcheck": "false"})

    def relevant_names(self):
        if self.has.data != "yes":
            return ["has"]
        return list(self._fields)

    def validate_has(self, field):
        need_choice(field, ["yes", "no"], "请选择有或无")

    def validate_level(self, field):
        need_choice(field, choices.EDUCATION_LEVELS, "请选择学历")

    def validate_degree(self, field):
        need_choice(field, [""] + choices.DEGREES, "请从列表中选择学位")

    def validate_school(self, field):
        need(field, "请填写毕业院校")
        max_length(field, 100)

    def validate_major(self, field):
        need(field, "请填写所学专业")
        max_length(field, 100)

    def validate_graduated_on(self, field):
        check_date(field, clock.today(), "请填写毕业日期")

    def validate_certificate_number(self, field):
        max_length(field, 40)


class EducationForm(FlaskForm):
    full_time = FormField(EducationBlock, label="全日制最高学历")
    part_time = FormField(EducationBlock, label="非全日制最高学历")


# 4. 专业技术资格信息 ------------------------------------------------------------------------
class QualificationRecord(Form):
    level = select("资格级别", choices.QUALIFICATION_LEVELS)
    certificate_number = text("证书编号", 40, render_kw={"spellcheck": "false"})
    obtained_on = DateInputField("取得日期")

    def validate_level(self, field):
        need_choice(field, choices.QUALIFICATION_LEVELS, "请选择资格级别")

    def validate_certificate_number(self, field):
        need(field, "请填写资格证书编号")
        max_length(field, 40)

    def validate_obtained_on(self, field):
        check_date(field, clock.today(), "请填写取得日期")


MAX_QUALIFICATIONS = 4


class QualificationForm(ConditionalForm, FlaskForm):
    has = RadioField("是否取得会计专业技术资格", choices=YES_NO, validate_choice=False)
    records = FieldList(FormField(QualificationRecord), label="资格证书", min_entries=1,
                        max_entries=MAX_QUALIFICATIONS)

    def relevant_names(self):
        return ["csrf_token", "has"] + (["records"] if self.has.data == "yes" else [])

    def validate_has(self, field):
        need_choice(field, ["yes", "no"], "请选择是否取得会计专业技术资格")

    def validate_records(self, field):
        levels = [entry.form.level.data for entry in field.entries]
        if len(levels) != len(set(levels)):
            raise ValidationError("同一资格级别只能填写一条记录")


SECTION_FORMS = {
    "basic": BasicForm,
    "work": WorkForm,
    "education": EducationForm,
    "qualification": QualificationForm,
}
