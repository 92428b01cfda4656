"""Proof materials (证明材料): which are required by the answers given, their state, and storing
a processed upload atomically with its record."""
from dataclasses import dataclass

import sqlalchemy as sa

from domain import answers
from domain.applications import check_editable
from domain.id_numbers import RESIDENT_ID
from domain.images import ImageRules, ProcessedImage, process_document, process_id_photo
from domain.sections import COMPLETED, NEEDS_CHANGES, NOT_STARTED, SECTION_KEYS
from extensions import db
from models import Application, Material, utcnow

ID_PHOTO = "id_photo"
LEVEL_KINDS = {"初级": "junior", "中级": "intermediate", "高级": "senior", "正高级": "principal"}
TWO_SIDED = (RESIDENT_ID, "港澳居民居住证", "台湾居民居住证", "外国人永久居留身份证")
UPLOADED = "已上传"
MISSING = "未上传"


@dataclass(frozen=True)
class MaterialSpec:
    kind: str
    title: str
    hint: str = ""

    @property
    def is_id_photo(self) -> bool:
        return self.kind == ID_PHOTO


def required_materials(application: Application) -> list[MaterialSpec]:
    """Exactly what this person's answers require, in the order of the seed's list (1.5)."""
    account = application.account
    specs = [MaterialSpec(ID_PHOTO, "1寸白底证件照",
                          "近期免冠正面照，白色背景；系统会自动裁剪为1寸并压缩到20KB以内")]
    if account.id_type in TWO_SIDED:
        name = "身份证" if account.id_type == RESIDENT_ID else account.id_type
        specs += [MaterialSpec("id_front", f"{name}正面", "有照片（人像）的一面"),
                  MaterialSpec("id_back", f"{name}反面", "另一面（国徽面或签发信息面）")]
    else:
        specs.append(MaterialSpec("id_front", f"{account.id_type}个人资料页", "有照片和证件号码的一页"))
    given = answers.of(application)
    if given.work is not None and given.work.employed:
        specs.append(MaterialSpec("work_proof", "工作证明",
                                  "下载已填好您信息的工作证明，打印、单位盖章后拍照上传"))
    elif given.work is not None:
        specs.append(MaterialSpec("residence_proof",
                                  "学生证" if given.work.is_student else "居住证或户口簿",
                                  "含有本人信息的页面"))
    if given.education is not None:
        if given.education.full_time is not None:
            specs.append(MaterialSpec("education_full_time", "全日制最高学历（学位）证书"))
        if given.education.part_time is not None:
            specs.append(MaterialSpec("education_part_time", "非全日制最高学历（学位）证书"))
    if given.qualification is not None:
        for record in given.qualification.records:
            if record.level in LEVEL_KINDS:
                specs.append(MaterialSpec(f"qualification_{LEVEL_KINDS[record.level]}",
                                          f"会计专业技术资格证书（{record.level}）"))
    return specs


def data_sections_done(application: Application) -> bool:
    return all(application.section(k) is not None and application.section(k).completed
               for k in SECTION_KEYS)


def materials_of(application: Application) -> dict[str, Material]:
    """The kept materials by kind (a photo waiting for confirmation is not one of them)."""
    rows = db.session.scalars(sa.select(Material).where(
        Material.application_id == application.id, Material.pending.is_(False)))
    return {m.kind: m for m in rows}


def pending_photo(application: Application) -> Material | None:
    return db.session.scalar(sa.select(Material).where(
        Material.application_id == application.id, Material.kind == ID_PHOTO,
        Material.pending.is_(True)))


def present_kinds(application: Application) -> set[str]:
    return set(db.session.scalars(sa.select(Material.kind).where(
        Material.application_id == application.id, Material.pending.is_(False))))


def all_present(application: Application) -> bool:
    present = present_kinds(application)
    return all(spec.kind in present for spec in required_materials(application))


def spec_for(application: Application, kind: str) -> MaterialSpec | None:
    return next((s for s in required_materials(application) if s.kind == kind), None)


def process_upload(spec: MaterialSpec, data: bytes, rules: ImageRules) -> ProcessedImage:
    return process_id_photo(data, rules) if spec.is_id_photo else process_document(data, rules)


def store(application: Application, kind: str, image: ProcessedImage,
          pending: bool = False) -> Material:
    """Insert or replace the material in one transaction: the old image is gone only if the new
    one is in. A pending one (the 1-inch photo before its confirmation) replaces only the
    pending one."""
    check_editable(application, "materials")
    material = db.session.scalar(sa.select(Material).where(
        Material.application_id == application.id, Material.kind == kind,
        Material.pending.is_(pending)))
    if material is None:
        material = Material(application_id=application.id, owner_id=application.account_id,
                            kind=kind, pending=pending)
        db.session.add(material)
    material.sha256 = image.sha256
    material.size_bytes = image.size
    material.width, material.height = image.width, image.height
    material.content = image.data
    material.thumbnail = image.thumbnail
    material.notes = "；".join(image.fixes)
    material.uploaded_at = utcnow()
    material.carried = False   # in a change (信息变更): uploaded for it now
    _clear_needs_changes(application)
    if not pending:
        _queue_precheck(material)
    db.session.commit()
    return material


def confirm_pending_photo(application: Application) -> bool:
    """The person accepted the processed ID photo: it replaces the kept one atomically."""
    check_editable(application, "materials")
    pending = pending_photo(application)
    if pending is None:
        return False
    replaced = db.session.execute(sa.delete(Material).where(
        Material.application_id == application.id, Material.kind == ID_PHOTO,
        Material.pending.is_(False)))
    db.session.flush()
    pending.pending = False
    _queue_precheck(pending, replaced=bool(replaced.rowcount))
    db.session.commit()
    return True


def _queue_precheck(material: Material, replaced: bool = False) -> None:
    """The machine pre-check of a picture just kept (its old result, if any, is dropped)."""
    from domain import prechecks  # imported here: prechecks reads this module's kinds
    prechecks.queue_check(material, replaced)


def _clear_needs_changes(application: Application) -> None:
    section = application.section("materials")
    if section is not None:
        section.needs_changes = False


def section_status(application: Application) -> str:
    section = application.section("materials")
    if section is not None and section.needs_changes:
        return NEEDS_CHANGES
    if application.is_open_change:
        from domain import changes  # imported here: changes builds on this module
        if changes.stale_pictures(application):
            return NEEDS_CHANGES
    if data_sections_done(application) and all_present(application):
        return COMPLETED
    return NOT_STARTED
