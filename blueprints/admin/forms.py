import sqlalchemy as sa
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from blueprints.fields import SelectField, StringField
from extensions import db
from models import Region, RegionLevel

ROLE_CHOICES = [SelectChoice("reviewer", "审核员"), SelectChoice("admin", "管理员"),
                SelectChoice("auditor", "审计员")]


def region_choices():
    """Province, then each prefecture followed by its counties."""
    regions = list(db.session.scalars(sa.select(Region).order_by(Region.code)))
    choices = [SelectChoice("", "请选择")]
    for region in regions:
        indent = {RegionLevel.PROVINCE: "", RegionLevel.PREFECTURE: "　",
                  RegionLevel.COUNTY: "　　"}[region.level]
        choices.append(SelectChoice(region.code, f"{indent}{region.name}（{region.bureau_name}）"))
    return choices


class StaffForm(FlaskForm):
    role = SelectField("角色", choices=ROLE_CHOICES, validate_choice=False)
    region = SelectField("管辖地区", validate_choice=False)
    id_number = StringField("证件号码（居民身份证）", render_kw={"maxlength": 40})
    name = StringField("姓名", render_kw={"maxlength": 30})
    phone = StringField("手机号码", render_kw={"maxlength": 20, "inputmode": "numeric"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.region.choices = region_choices()


class RegionForm(FlaskForm):
    region = SelectField("管辖地区", validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.region.choices = region_choices()
