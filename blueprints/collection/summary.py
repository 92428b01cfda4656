"""个人信息汇总: every section's answers as (label, value) rows, read through the section forms so
labels and choice names live in one place. Used by the accountant's summary and the reviewer."""
from dataclasses import dataclass, field

from blueprints.collection.sources import build_form, stored_formdata
from blueprints.forms_util import relevant_fields
from domain import materials
from domain.regions import division
from domain.sections import DATA_SECTIONS, status_of

NOT_GIVEN = "未填写"
MATERIALS_OF = {
    "basic": ("id_photo", "id_front", "id_back"),
    "work": ("work_proof", "residence_proof"),
    "education": ("education_full_time", "education_part_time"),
    "qualification": tuple(f"qualification_{kind}" for kind in materials.LEVEL_KINDS.values()),
}


@dataclass
class SectionSummary:
    key: str
    title: str
    status: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    materials: list = field(default_factory=list)  # (spec, Material or None)


def _display(field) -> str:
    data = field.data
    if field.type in ("SelectField", "RadioField"):
        if field.name.endswith(("_county", "_prefecture")):
            region = division(data)
            return region.name if region else NOT_GIVEN
        labels = {str(choice.value): choice.label for choice in field.choices}
        return labels.get(str(data), NOT_GIVEN) if data else NOT_GIVEN
    if isinstance(data, list):
        return "、".join(data) if data else NOT_GIVEN
    return str(data) if data else NOT_GIVEN


def _rows(form) -> list[tuple[str, str]]:
    """(label, value) rows; a block or record starts with its heading row (heading, "")."""
    rows, current = [], None
    for heading, answer in relevant_fields(form):
        if heading != current and heading is not None:
            rows.append((heading, ""))
        current = heading
        rows.append((answer.label.text, _display(answer)))
    return rows


def summarise(application) -> list[SectionSummary]:
    account = application.account
    specs = {spec.kind: spec for spec in materials.required_materials(application)}
    uploaded = materials.materials_of(application)
    summaries = []
    for info in DATA_SECTIONS:
        section = application.section(info.key)
        summary = SectionSummary(info.key, info.title, status_of(section))
        if info.key == "basic":
            summary.rows += [("姓名", account.name), ("证件类型", account.id_type),
                             ("证件号码", account.id_number), ("手机号码", account.phone or "")]
            if account.birth_date:
                summary.rows += [("性别", account.gender),
                                 ("出生日期", account.birth_date.isoformat())]
        if section is not None and section.data is not None:
            summary.rows += _rows(build_form(application, info.key,
                                             stored_formdata(section.data)))
        summary.materials = [(specs[kind], uploaded.get(kind))
                             for kind in MATERIALS_OF[info.key] if kind in specs]
        summaries.append(summary)
    return summaries
