from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError
from wtforms.widgets import ListWidget

from blueprints.fields import (
    BooleanField,
    DateField,
    FastCheckboxInput,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from domain.review import COMMON_REASONS, MAX_NOTE, REOPENABLE, preselected_parts
from domain.review_queue import TABS
from domain.rights_requests import MAX_ANSWER
from models.application import KIND_LABELS


class ListFilterForm(FlaskForm):
    """The list's filters, read from the query string (GET), so no CSRF token."""

    class Meta:
        csrf = False

    status = SelectField("状态", choices=[SelectChoice(k, v) for k, v in TABS],
                         default=TABS[0][0], validate_choice=False)
    county = SelectField("县（市、区）", validate_choice=False)
    date_from = DateField("提交日期从", validators=[Optional()], render_kw={"type": "date"})
    date_to = DateField("至", validators=[Optional()], render_kw={"type": "date"})
    q = StringField("搜索", render_kw={"placeholder": "姓名、完整证件号码或手机号",
                                     "maxlength": 40})
    doubt = BooleanField("机器核对有疑点")
    kind = SelectField("类型", choices=[SelectChoice("", "全部")] + [
        SelectChoice(key, label) for key, label in KIND_LABELS.items()], validate_choice=False)


class ExportForm(FlaskForm):
    """导出Excel: masked numbers, unless the reviewer asks for them in full and says why."""
    full = BooleanField("导出完整证件号码和手机号")
    reason = StringField("导出完整号码的原因", render_kw={"maxlength": 200,
                                                  "placeholder": "如：报送省财政厅复核名单"})

    def wants_full(self) -> bool:
        return bool(self.full.data)

    def validate_reason(self, field):
        if self.full.data and not (field.data or "").strip():
            raise ValidationError("导出完整证件号码和手机号时，请填写原因")
        if field.data and len(field.data) > 200:
            raise ValidationError("原因最多200字")


class _Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = FastCheckboxInput()


class DecisionForm(FlaskForm):
    decision = RadioField("审核结果", choices=[SelectChoice("approve", "通过"),
                                            SelectChoice("reject", "不通过")],
                          validate_choice=False)
    reasons = _Checkboxes("不通过原因", choices=[
        SelectChoice(r, r, render_kw={"data-reopens": " ".join(preselected_parts(r))}
                     if preselected_parts(r) else {})
        for r in COMMON_REASONS], validate_choice=False)
    note = TextAreaField("说明", render_kw={"maxlength": MAX_NOTE, "rows": 3})
    reopen = _Checkboxes("需要修改的部分", choices=[SelectChoice(k, t) for k, t in REOPENABLE],
                         validate_choice=False)


class AnswerForm(FlaskForm):
    """The bureau's answer to a deletion or correction request."""
    outcome = RadioField("处理结果", choices=[SelectChoice("done", "已办理"),
                                          SelectChoice("refused", "不予办理")],
                         validate_choice=False)
    text = TextAreaField("答复内容", render_kw={"maxlength": MAX_ANSWER, "rows": 4})
    confirm = BooleanField("确认删除该申报人已提交的全部信息（无法恢复）")
