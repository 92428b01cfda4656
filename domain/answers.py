"""What a person answered in each section, as the domain reads it: typed, with the limits of the
collection defined once (how many qualifications, which education blocks).

Rules (which materials are required, the 属地, the work certificate, the export, the summary)
read only these types; forms map to and from them. This module is also the only place that
knows how answers are stored: one JSON object per section, one list of strings per answer — the
layout the collection has stored since its first release (it is the shape form data posts, so
a stored answer and a draft of typed text read the same way). A rename of a form field cannot
change a rule: the form's own mapping would fail loudly instead."""
from dataclasses import dataclass
from datetime import date

MAX_QUALIFICATIONS = 4
EDUCATION_BLOCKS = ("full_time", "part_time")  # highest 全日制 and highest 非全日制
YES, NO = "yes", "no"


# Reading and writing the stored layout ---------------------------------------------------------

def _one(stored: dict | None, key: str) -> str:
    values = (stored or {}).get(key) or []
    return values[0] if values else ""


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _text(value) -> list[str]:
    """One answer as stored: [] when not given."""
    if value in (None, ""):
        return []
    return [value.isoformat() if isinstance(value, date) else str(value)]


# 1. 基本信息 ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BasicAnswers:
    ethnicity: str
    political_status: str = ""          # optional
    address: str = ""
    email: str = ""                     # optional
    # Typed only for documents that do not carry them (a 居民身份证 number gives both).
    gender: str | None = None
    birth_date: date | None = None

    def to_stored(self) -> dict:
        stored = {}
        if self.gender is not None:
            stored |= {"gender": _text(self.gender), "birth_date": _text(self.birth_date)}
        return stored | {"ethnicity": _text(self.ethnicity),
                         "political_status": _text(self.political_status),
                         "address": _text(self.address), "email": _text(self.email)}

    @classmethod
    def from_stored(cls, stored: dict) -> "BasicAnswers":
        typed_identity = "gender" in stored
        return cls(ethnicity=_one(stored, "ethnicity"),
                   political_status=_one(stored, "political_status"),
                   address=_one(stored, "address"), email=_one(stored, "email"),
                   gender=_one(stored, "gender") if typed_identity else None,
                   birth_date=_date(_one(stored, "birth_date")) if typed_identity else None)


# 2. 工作信息 ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Employer:
    """在岗: the employer, which decides the 属地."""
    name: str
    credit_code: str
    unit_type: str
    prefecture: str
    county: str
    join_date: date | None
    accounting_start_date: date | None
    posts: tuple[str, ...]
    duty: str = ""                      # optional


@dataclass(frozen=True)
class NotEmployed:
    """非在岗: the county of the school, household registration or residence."""
    category: str                       # 在校学生 / 待业 / 退休 / 其他
    prefecture: str
    county: str
    school_name: str = ""               # students only


STUDENT = "在校学生"


@dataclass(frozen=True)
class WorkAnswers:
    employer: Employer | None = None
    not_employed: NotEmployed | None = None

    @property
    def employed(self) -> bool:
        return self.employer is not None

    @property
    def is_student(self) -> bool:
        return self.not_employed is not None and self.not_employed.category == STUDENT

    @property
    def county(self) -> str | None:
        """The county whose finance bureau reviews (属地)."""
        where = self.employer or self.not_employed
        return (where.county or None) if where else None

    def to_stored(self) -> dict:
        if self.employer is not None:
            e = self.employer
            return {"employed": [YES], "unit_name": _text(e.name),
                    "unit_credit_code": _text(e.credit_code), "unit_type": _text(e.unit_type),
                    "unit_prefecture": _text(e.prefecture), "unit_county": _text(e.county),
                    "join_date": _text(e.join_date),
                    "accounting_start_date": _text(e.accounting_start_date),
                    "posts": list(e.posts), "duty": _text(e.duty)}
        n = self.not_employed
        stored = {"employed": [NO], "person_category": _text(n.category),
                  "collection_prefecture": _text(n.prefecture),
                  "collection_county": _text(n.county)}
        if n.category == STUDENT:
            stored["school_name"] = _text(n.school_name)
        return stored

    @classmethod
    def from_stored(cls, stored: dict) -> "WorkAnswers":
        if _one(stored, "employed") == YES:
            return cls(employer=Employer(
                name=_one(stored, "unit_name"), credit_code=_one(stored, "unit_credit_code"),
                unit_type=_one(stored, "unit_type"), prefecture=_one(stored, "unit_prefecture"),
                county=_one(stored, "unit_county"), join_date=_date(_one(stored, "join_date")),
                accounting_start_date=_date(_one(stored, "accounting_start_date")),
                posts=tuple(stored.get("posts") or ()), duty=_one(stored, "duty")))
        return cls(not_employed=NotEmployed(
            category=_one(stored, "person_category"),
            prefecture=_one(stored, "collection_prefecture"),
            county=_one(stored, "collection_county"), school_name=_one(stored, "school_name")))


# 3. 学历信息 ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Degree:
    level: str
    degree: str                         # optional
    school: str
    major: str
    graduated_on: date | None
    certificate_number: str = ""        # optional


@dataclass(frozen=True)
class EducationAnswers:
    full_time: Degree | None = None     # None: 无
    part_time: Degree | None = None

    def blocks(self) -> list[tuple[str, "Degree | None"]]:
        return [(name, getattr(self, name)) for name in EDUCATION_BLOCKS]

    def to_stored(self) -> dict:
        stored = {}
        for name, degree in self.blocks():
            if degree is None:
                stored[f"{name}-has"] = [NO]
                continue
            stored |= {f"{name}-has": [YES], f"{name}-level": _text(degree.level),
                       f"{name}-degree": _text(degree.degree),
                       f"{name}-school": _text(degree.school),
                       f"{name}-major": _text(degree.major),
                       f"{name}-graduated_on": _text(degree.graduated_on),
                       f"{name}-certificate_number": _text(degree.certificate_number)}
        return stored

    @classmethod
    def from_stored(cls, stored: dict) -> "EducationAnswers":
        blocks = {}
        for name in EDUCATION_BLOCKS:
            if _one(stored, f"{name}-has") != YES:
                continue
            blocks[name] = Degree(
                level=_one(stored, f"{name}-level"), degree=_one(stored, f"{name}-degree"),
                school=_one(stored, f"{name}-school"), major=_one(stored, f"{name}-major"),
                graduated_on=_date(_one(stored, f"{name}-graduated_on")),
                certificate_number=_one(stored, f"{name}-certificate_number"))
        return cls(**blocks)


# 4. 专业技术资格信息 ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Qualification:
    level: str                          # 初级 / 中级 / 高级 / 正高级
    certificate_number: str
    obtained_on: date | None


@dataclass(frozen=True)
class QualificationAnswers:
    records: tuple[Qualification, ...] = ()   # none: 无; at most MAX_QUALIFICATIONS

    @property
    def has(self) -> bool:
        return bool(self.records)

    def to_stored(self) -> dict:
        if not self.records:
            return {"has": [NO]}
        stored = {"has": [YES]}
        for index, record in enumerate(self.records):
            stored |= {f"records-{index}-level": _text(record.level),
                       f"records-{index}-certificate_number": _text(record.certificate_number),
                       f"records-{index}-obtained_on": _text(record.obtained_on)}
        return stored

    @classmethod
    def from_stored(cls, stored: dict) -> "QualificationAnswers":
        if _one(stored, "has") != YES:
            return cls()
        records = []
        for index in range(MAX_QUALIFICATIONS):
            level = _one(stored, f"records-{index}-level")
            if not level:
                break
            records.append(Qualification(
                level, _one(stored, f"records-{index}-certificate_number"),
                _date(_one(stored, f"records-{index}-obtained_on"))))
        return cls(tuple(records))


TYPES = {"basic": BasicAnswers, "work": WorkAnswers, "education": EducationAnswers,
         "qualification": QualificationAnswers}


def from_stored(key: str, stored: dict | None):
    """A section's stored answers as their type, or None if there are none."""
    return TYPES[key].from_stored(stored) if stored is not None else None


@dataclass(frozen=True)
class Answers:
    """Every saved section of an application (None: not saved yet)."""
    basic: BasicAnswers | None = None
    work: WorkAnswers | None = None
    education: EducationAnswers | None = None
    qualification: QualificationAnswers | None = None


def of(application) -> Answers:
    """The application's saved answers (completed sections only; drafts are not answers)."""
    found = {}
    for section in application.sections:
        if section.key in TYPES and section.completed and section.data is not None:
            found[section.key] = from_stored(section.key, section.data)
    return Answers(**found)
