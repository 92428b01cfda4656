from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from blueprints.fields import DateField, SelectField, StringField
from domain.audit_events import event_choices


class AuditFilterForm(FlaskForm):
    """The audit log's filters, read from the query string (GET), so no CSRF token."""

    class Meta:
        csrf = False

    action = SelectField("操作类型", validate_choice=False)
    person = StringField("人员", render_kw={"maxlength": 40, "autocomplete": "off",
                                          "placeholder": "完整证件号码，或日志中的脱敏号码"})
    date_from = DateField("日期从", validators=[Optional()], render_kw={"type": "date"})
    date_to = DateField("至", validators=[Optional()], render_kw={"type": "date"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.action.choices = [SelectChoice("", "全部")] + [
            SelectChoice(code, f"{name}（{code}）") for code, name in event_choices()]
