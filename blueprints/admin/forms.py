import sqlalchemy as sa
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from blueprints.fields import SelectField, StringField
from domain.archive_files import UnreadableFile
from domain.archive_uploads import check_upload
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


class ArchiveUploadForm(FlaskForm):
    """The archive file; `content` holds its bytes once validated."""
    archive = FileField("档案文件")
    content = b""

    def validate_archive(self, field):
        upload = field.data
        if not isinstance(upload, FileStorage) or not upload.filename:
            raise ValidationError("请选择要上传的档案文件（CSV或Excel .xlsx）")
        content = upload.read()
        try:
            check_upload(upload.filename, content)
        except UnreadableFile as problem:
            raise ValidationError(str(problem)) from None
        self.content = content
