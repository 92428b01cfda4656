"""What a pre-check found, in a shape that survives JSON storage.

A result is advice for the reviewer: a status per field (ID number, name, certificate number,
face) and one for the picture, each with a short message in Chinese. The picture's status is the
most serious of its fields: one mismatch makes the picture a mismatch; a field the machine could
not read makes it unreadable unless another field disagrees.
"""
from dataclasses import asdict, dataclass, field

MATCH = "match"
MISMATCH = "mismatch"
UNREADABLE = "unreadable"
NOT_CHECKED = "not_checked"

STATUS_LABELS = {MATCH: "一致", MISMATCH: "不一致", UNREADABLE: "未识别", NOT_CHECKED: "未检查"}


@dataclass(frozen=True)
class FieldResult:
    status: str
    message: str
    read: str | None = None           # what the engine read; an ID number only masked
    confidence: float | None = None   # the engine's own score, 0–1, where it gives one


@dataclass(frozen=True)
class Result:
    kind: str                         # "id_card" | "certificate" | "portrait"
    status: str
    message: str
    fields: dict[str, FieldResult] = field(default_factory=dict)
    confidence: float | None = None
    duration_ms: int = 0
    engine: str = ""

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Result":
        fields = {name: FieldResult(**value) for name, value in data.get("fields", {}).items()}
        return cls(**{**data, "fields": fields})


def summarise(kind: str, fields: dict[str, FieldResult], duration_ms: int = 0,
              engine: str = "") -> Result:
    """One result for the picture from its fields' results."""
    statuses = {f.status for f in fields.values()}
    if MISMATCH in statuses:
        status = MISMATCH
    elif statuses == {MATCH}:
        status = MATCH
    elif statuses == {NOT_CHECKED}:
        status = NOT_CHECKED
    else:
        status = UNREADABLE
    scores = [f.confidence for f in fields.values() if f.confidence is not None]
    return Result(kind, status, "；".join(f.message for f in fields.values()), fields,
                  round(min(scores), 3) if scores else None, duration_ms, engine)


def not_checked(kind: str, reason: str, duration_ms: int = 0, engine: str = "") -> Result:
    """Nothing was checked: the engine is absent or failed, or the document is not supported."""
    return Result(kind, NOT_CHECKED, f"未检查：{reason}", {}, None, duration_ms, engine)
