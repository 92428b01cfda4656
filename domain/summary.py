"""个人信息汇总: every section's answers as rows to read, built from the typed answers. Used by
the accountant's summary and the reviewer's detail page. A row knows whether its value is
sensitive (an ID number, a phone), so masking never depends on how a label is worded."""
from dataclasses import dataclass, field
from datetime import date

from domain import answers as typed
from domain import labels, materials
from domain.masking import ID_NUMBER, PHONE
from domain.regions import division
from domain.sections import DATA_SECTIONS, status_of

NOT_GIVEN = "未填写"
MATERIALS_OF = {
    "basic": ("id_photo", "id_front", "id_back"),
    "work": ("work_proof", "residence_proof"),
    "education": ("education_full_time", "education_part_time"),
    "qualification": tuple(f"qualification_{kind}" for kind in materials.LEVEL_KINDS.values()),
}


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    value: str = ""
    sensitive: str | None = None   # masking.ID_NUMBER, masking.PHONE or None
    group: bool = False            # the heading of a block or record: a label, no value


@dataclass
class SectionSummary:
    key: str
    title: str
    status: str
    rows: list[Row] = field(default_factory=list)
    materials: list = field(default_factory=list)  # (spec, Material or None)


def _shown(value) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "、".join(value) if value else NOT_GIVEN
    return str(value) if value else NOT_GIVEN


def _region(code: str) -> str:
    region = division(code)
    return region.name if region else NOT_GIVEN


def _row(key: str, value, words=labels.SECTION_ANSWERS) -> Row:
    return Row(key, words[key], _shown(value))


def _account_rows(account) -> list[Row]:
    rows = [Row("name", "姓名", account.name), Row("id_type", "证件类型", account.id_type),
            Row("id_number", "证件号码", account.id_number, sensitive=ID_NUMBER),
            Row("phone", "手机号码", account.phone or "", sensitive=PHONE)]
    if account.birth_date:
        rows += [Row("gender", "性别", account.gender),
                 Row("birth_date", "出生日期", account.birth_date.isoformat())]
    return rows


def _basic(a: typed.BasicAnswers) -> list[Row]:
    rows = []
    if a.gender is not None:
        rows += [_row("gender", a.gender), _row("birth_date", a.birth_date)]
    return rows + [_row("ethnicity", a.ethnicity), _row("political_status", a.political_status),
                   _row("address", a.address), _row("email", a.email)]


def _work(a: typed.WorkAnswers) -> list[Row]:
    rows = [Row("employed", labels.SECTION_ANSWERS["employed"],
                labels.YES_NO["yes" if a.employed else "no"])]
    if a.employer is not None:
        e = a.employer
        return rows + [
            _row("unit_name", e.name), _row("unit_credit_code", e.credit_code),
            _row("unit_type", e.unit_type),
            Row("unit_prefecture", labels.SECTION_ANSWERS["unit_prefecture"],
                _region(e.prefecture)),
            Row("unit_county", labels.SECTION_ANSWERS["unit_county"], _region(e.county)),
            _row("join_date", e.join_date), _row("accounting_start_date", e.accounting_start_date),
            _row("posts", e.posts), _row("duty", e.duty)]
    n = a.not_employed
    rows += [_row("person_category", n.category),
             Row("collection_prefecture", labels.SECTION_ANSWERS["collection_prefecture"],
                 _region(n.prefecture)),
             Row("collection_county", labels.SECTION_ANSWERS["collection_county"],
                 _region(n.county))]
    return rows + ([_row("school_name", n.school_name)] if a.is_student else [])


def _education(a: typed.EducationAnswers) -> list[Row]:
    rows = []
    for block, degree in a.blocks():
        words = labels.EDUCATION
        rows += [Row(block, labels.EDUCATION_BLOCKS[block], group=True),
                 Row(f"{block}.has", words["has"], labels.HAS_NONE["no" if degree is None
                                                                   else "yes"])]
        if degree is not None:
            rows += [Row(f"{block}.{name}", words[name], _shown(getattr(degree, name)))
                     for name in ("level", "degree", "school", "major", "graduated_on",
                                  "certificate_number")]
    return rows


def _qualification(a: typed.QualificationAnswers) -> list[Row]:
    words = labels.QUALIFICATION
    rows = [Row("has", words["has"], labels.YES_NO["yes" if a.has else "no"])]
    for index, record in enumerate(a.records, start=1):
        rows += [Row(f"records.{index}", f"{words['records']} {index}", group=True)] + [
            Row(f"records.{index}.{name}", words[name], _shown(getattr(record, name)))
            for name in ("level", "certificate_number", "obtained_on")]
    return rows


ROWS_OF = {"basic": _basic, "work": _work, "education": _education,
           "qualification": _qualification}


def section_rows(key: str, given) -> list[Row]:
    """The rows of one section's typed answers (none when not answered)."""
    return ROWS_OF[key](given) if given is not None else []


def summarise(application) -> list[SectionSummary]:
    specs = {spec.kind: spec for spec in materials.required_materials(application)}
    uploaded = materials.materials_of(application)
    summaries = []
    for info in DATA_SECTIONS:
        section = application.section(info.key)
        summary = SectionSummary(info.key, info.title, status_of(section))
        if info.key == "basic":
            summary.rows += _account_rows(application.account)
        section_answers = typed.from_stored(info.key, section.data) if section else None
        if section_answers is not None:
            summary.rows += ROWS_OF[info.key](section_answers)
        summary.materials = [(specs[kind], uploaded.get(kind))
                             for kind in MATERIALS_OF[info.key] if kind in specs]
        summaries.append(summary)
    return summaries
