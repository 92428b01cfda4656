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

from blueprints.collection.form_parts import (
    ANSWER,
    EDUCATION,
    HAS_NONE,
    QUALIFICATION,
    YES_NO,
    ConditionalForm,
    DateInputField,
    MultiCheckboxField,
    RegionPair,
    as_date,
    check_date,
    iso_date,
    max_length,
    need,
    need_choice,
    select,
    text,
)
from blueprints.fields import (
    RadioField,
    SelectField,
)
from domain import answers, choices, clock, credit_codes, labels
from domain.answers import MAX_QUALIFICATIONS
from domain.changes import PARTS as CHANGE_PARTS


class BasicForm(ConditionalForm, FlaskForm):
    gender = RadioField(ANSWER["gender"], choices=[SelectChoice(g, g) for g in choices.GENDERS],
                        validate_choice=False)
    birth_date = DateInputField(ANSWER["birth_date"])
    ethnicity = select(ANSWER["ethnicity"], choices.ETHNICITY_CHOICES)
    political_status = select(ANSWER["political_status"], choices.POLITICAL_STATUSES,
                              blank="请选择（选填）")
    address = text(ANSWER["address"], 200, render_kw={"autocomplete": "address-line1"})
    email = text(ANSWER["email"], 100, render_kw={"autocomplete": "email", "inputmode": "email"})

    @staticmethod
    def data_from(given: answers.BasicAnswers) -> dict:
        return {"gender": given.gender or "", "birth_date": iso_date(given.birth_date),
                "ethnicity": given.ethnicity, "political_status": given.political_status,
                "address": given.address, "email": given.email}

    def to_answers(self) -> answers.BasicAnswers:
        typed = not self.derived_identity
        return answers.BasicAnswers(
            ethnicity=self.ethnicity.data, political_status=self.political_status.data or "",
            address=self.address.data or "", email=self.email.data or "",
            gender=self.gender.data if typed else None,
            birth_date=as_date(self.birth_date) if typed else None)

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
    employed = RadioField(ANSWER["employed"], choices=YES_NO, validate_choice=False)
    unit_name = text(ANSWER["unit_name"], 100, render_kw={"autocomplete": "organization"})
    unit_credit_code = text(ANSWER["unit_credit_code"], 30, render_kw={
        "autocapitalize": "characters", "spellcheck": "false"})
    unit_type = select(ANSWER["unit_type"], choices.UNIT_TYPES)
    unit_prefecture = SelectField(ANSWER["unit_prefecture"], validate_choice=False)
    unit_county = SelectField(ANSWER["unit_county"], validate_choice=False)
    join_date = DateInputField(ANSWER["join_date"])
    accounting_start_date = DateInputField(ANSWER["accounting_start_date"])
    posts = MultiCheckboxField(ANSWER["posts"],
                               choices=[SelectChoice(p, p) for p in choices.ACCOUNTING_POSTS],
                               validate_choice=False)
    duty = select(ANSWER["duty"], choices.DUTIES, blank="无（选填）")
    person_category = select(ANSWER["person_category"], choices.PERSON_CATEGORIES)
    collection_prefecture = SelectField(ANSWER["collection_prefecture"], validate_choice=False)
    collection_county = SelectField(ANSWER["collection_county"], validate_choice=False)
    school_name = text(ANSWER["school_name"], 100)

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
        RegionPair.settle(self.unit_prefecture, self.unit_county)
        RegionPair.settle(self.collection_prefecture, self.collection_county)

    @staticmethod
    def data_from(given: answers.WorkAnswers) -> dict:
        if given.employer is not None:
            e = given.employer
            return {"employed": answers.YES, "unit_name": e.name, "unit_credit_code": e.credit_code,
                    "unit_type": e.unit_type, "unit_prefecture": e.prefecture,
                    "unit_county": e.county, "join_date": iso_date(e.join_date),
                    "accounting_start_date": iso_date(e.accounting_start_date),
                    "posts": list(e.posts), "duty": e.duty}
        n = given.not_employed
        return {"employed": answers.NO, "person_category": n.category,
                "collection_prefecture": n.prefecture, "collection_county": n.county,
                "school_name": n.school_name}

    def to_answers(self) -> answers.WorkAnswers:
        if self.employed.data == answers.YES:
            return answers.WorkAnswers(employer=answers.Employer(
                name=self.unit_name.data, credit_code=self.unit_credit_code.data,
                unit_type=self.unit_type.data, prefecture=self.unit_prefecture.data,
                county=self.unit_county.data, join_date=as_date(self.join_date),
                accounting_start_date=as_date(self.accounting_start_date),
                posts=tuple(self.posts.data), duty=self.duty.data or ""))
        return answers.WorkAnswers(not_employed=answers.NotEmployed(
            category=self.person_category.data, prefecture=self.collection_prefecture.data,
            county=self.collection_county.data,
            school_name=self.school_name.data if self.is_student else ""))

    @property
    def is_student(self):
        return self.person_category.data == choices.STUDENT

    def relevant_names(self):
        names = ["csrf_token", "employed"]
        if self.employed.data == "yes":
            names += self.EMPLOYED_FIELDS
        elif self.employed.data == "no":
            names += self.NOT_EMPLOYED_FIELDS
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
        if self.is_student:
            need(field, "在校学生请填写学校名称")
        max_length(field, 100)


def _years_after(born: date, years: int) -> date:
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # 29 February
        return born.replace(year=born.year + years, day=28)


# 3. 学历信息 ------------------------------------------------------------------------------
class EducationBlock(ConditionalForm, Form):
    has = RadioField(EDUCATION["has"], choices=HAS_NONE, default="no", validate_choice=False)
    level = select(EDUCATION["level"], choices.EDUCATION_LEVELS)
    degree = select(EDUCATION["degree"], choices.DEGREES, blank="请选择（选填）")
    school = text(EDUCATION["school"], 100)
    major = text(EDUCATION["major"], 100)
    graduated_on = DateInputField(EDUCATION["graduated_on"])
    certificate_number = text(EDUCATION["certificate_number"], 40, render_kw={"spellcheck": "false"})

    @staticmethod
    def data_from(degree: answers.Degree | None) -> dict:
        if degree is None:
            return {"has": answers.NO}
        return {"has": answers.YES, "level": degree.level, "degree": degree.degree,
                "school": degree.school, "major": degree.major,
                "graduated_on": iso_date(degree.graduated_on),
                "certificate_number": degree.certificate_number}

    def to_degree(self) -> answers.Degree | None:
        if self.has.data != answers.YES:
            return None
        return answers.Degree(level=self.level.data, degree=self.degree.data or "",
                              school=self.school.data, major=self.major.data,
                              graduated_on=as_date(self.graduated_on),
                              certificate_number=self.certificate_number.data or "")

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
    full_time = FormField(EducationBlock, label=labels.EDUCATION_BLOCKS["full_time"])
    part_time = FormField(EducationBlock, label=labels.EDUCATION_BLOCKS["part_time"])

    @staticmethod
    def data_from(given: answers.EducationAnswers) -> dict:
        return {name: EducationBlock.data_from(degree) for name, degree in given.blocks()}

    def to_answers(self) -> answers.EducationAnswers:
        return answers.EducationAnswers(full_time=self.full_time.form.to_degree(),
                                        part_time=self.part_time.form.to_degree())


# 4. 专业技术资格信息 ------------------------------------------------------------------------
class QualificationRecord(Form):
    level = select(QUALIFICATION["level"], choices.QUALIFICATION_LEVELS)
    certificate_number = text(QUALIFICATION["certificate_number"], 40, render_kw={"spellcheck": "false"})
    obtained_on = DateInputField(QUALIFICATION["obtained_on"])

    def validate_level(self, field):
        need_choice(field, choices.QUALIFICATION_LEVELS, "请选择资格级别")

    def validate_certificate_number(self, field):
        need(field, "请填写资格证书编号")
        max_length(field, 40)

    def validate_obtained_on(self, field):
        check_date(field, clock.today(), "请填写取得日期")


class QualificationForm(ConditionalForm, FlaskForm):
    has = RadioField(labels.QUALIFICATION["has"], choices=YES_NO, validate_choice=False)
    records = FieldList(FormField(QualificationRecord), label=labels.QUALIFICATION["records"],
                        min_entries=1, max_entries=MAX_QUALIFICATIONS)

    @staticmethod
    def data_from(given: answers.QualificationAnswers) -> dict:
        return {"has": answers.YES if given.has else answers.NO,
                "records": [{"level": r.level, "certificate_number": r.certificate_number,
                             "obtained_on": iso_date(r.obtained_on)} for r in given.records]}

    def to_answers(self) -> answers.QualificationAnswers:
        if self.has.data != answers.YES:
            return answers.QualificationAnswers()
        return answers.QualificationAnswers(tuple(
            answers.Qualification(entry.form.level.data, entry.form.certificate_number.data,
                                  as_date(entry.form.obtained_on))
            for entry in self.records.entries))

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


# 信息变更 ----------------------------------------------------------------------------------------
class ChangeForm(FlaskForm):
    """What changed: the parts of the approved record a change opens to edit."""
    parts = MultiCheckboxField("要变更的内容",
                               choices=[SelectChoice(key, words) for key, words in CHANGE_PARTS],
                               validate_choice=False)

    def validate_parts(self, field):
        if not field.data:
            raise ValidationError("请至少选择一项要变更的内容")
        if any(key not in dict(CHANGE_PARTS) for key in field.data):
            raise ValidationError("请从列表中选择要变更的内容")
