"""The pieces the section forms are built from: choice lists, field makers, the checks they share
(`need`, `check_date`, …), answers that apply only to some answers (`ConditionalForm`), and a
prefecture with its county (`RegionPair`)."""
from datetime import date

from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError
from wtforms.widgets import ListWidget

from blueprints.fields import (
    FastCheckboxInput,
    SelectField,
    SelectMultipleField,
    StringField,
)
from domain import labels
from domain.regions import counties_of, division, prefectures, remembered
from models import RegionLevel

YES_NO = [SelectChoice(value, word) for value, word in labels.YES_NO.items()]
HAS_NONE = [SelectChoice(value, word) for value, word in labels.HAS_NONE.items()]
ANSWER, EDUCATION, QUALIFICATION = labels.SECTION_ANSWERS, labels.EDUCATION, labels.QUALIFICATION


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


def iso_date(value: date | None) -> str:
    return value.isoformat() if value else ""


def as_date(field) -> date | None:
    return date.fromisoformat(field.data) if field.data else None


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
    """A prefecture select and a county select of that prefecture. Before a prefecture is chosen
    the county select lists every county grouped by prefecture, so a page without JavaScript needs
    no round trip: the prefecture is taken from the county chosen."""

    @staticmethod
    def prefecture_choices():
        return list(remembered("prefecture_choices", lambda: tuple(
            [SelectChoice("", "请选择州（市）")]
            + [SelectChoice(p.code, p.name) for p in prefectures()])))

    @staticmethod
    def county_choices(prefecture_code):
        """The counties of a known prefecture, or every county grouped by prefecture; built once
        per process (the section pages list 129 counties twice)."""
        blank = SelectChoice("", "请选择县（市、区）")
        if prefecture_code:
            known = division(prefecture_code)
            if known is None or known.level != RegionLevel.PREFECTURE:
                return [blank]
            return list(remembered(f"county_choices:{prefecture_code}", lambda: tuple(
                [blank] + [SelectChoice(c.code, c.name) for c in counties_of(prefecture_code)])))
        return list(remembered("county_choices", lambda: tuple(
            [blank] + [SelectChoice(c.code, c.name, optgroup=p.name)
                       for p in prefectures() for c in counties_of(p.code)])))

    @staticmethod
    def settle(prefecture_field, county_field):
        """A county chosen with no prefecture gives its prefecture; then the county list."""
        county = division(county_field.data) if county_field.data else None
        if not prefecture_field.data and county is not None \
                and county.level == RegionLevel.COUNTY:
            prefecture_field.data = county.parent_code
        county_field.choices = RegionPair.county_choices(prefecture_field.data)

    @staticmethod
    def check(prefecture_field, county_field, message):
        county = division(county_field.data)
        if county is None or county.level != RegionLevel.COUNTY:
            raise ValidationError(message)
        if county.parent_code != prefecture_field.data:
            raise ValidationError("所选县（市、区）不属于所选州（市），请重新选择")


# 1. 基本信息 ------------------------------------------------------------------------------
