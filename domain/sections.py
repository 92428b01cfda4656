"""The sections of the collection, their order and their status words."""
from dataclasses import dataclass

from models import Section


@dataclass(frozen=True)
class SectionInfo:
    key: str
    title: str


DATA_SECTIONS = [
    SectionInfo("basic", "基本信息"),
    SectionInfo("work", "工作信息"),
    SectionInfo("education", "学历信息"),
    SectionInfo("qualification", "专业技术资格信息"),
]
SECTION_KEYS = [s.key for s in DATA_SECTIONS]
TITLES = {s.key: s.title for s in DATA_SECTIONS}

NOT_STARTED = "未填写"
COMPLETED = "已完成"
NEEDS_CHANGES = "需修改"


def status_of(section: Section | None) -> str:
    if section is None:
        return NOT_STARTED
    if section.needs_changes:
        return NEEDS_CHANGES
    return COMPLETED if section.completed else NOT_STARTED


def first(data: dict | None, name: str, default: str = "") -> str:
    """The single value of a field in stored form data ({name: [values]})."""
    values = (data or {}).get(name) or []
    return values[0] if values else default
