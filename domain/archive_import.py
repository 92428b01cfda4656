"""Import of existing accountants (原有会计人员) from the archive: CSV or XLSX with the columns
姓名, 证件号码, 资格级别, 证书编号, 取得日期.

Each accepted row gives an applicant account (if none exists) that logs in with the initial
password, the last 6 characters of the ID number, and a qualification record. Running the same
file twice changes nothing; an account someone already uses is never touched."""
import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa

from domain import audit
from domain.accounts import find_by_id_number, hasher
from domain.id_numbers import RESIDENT_ID, InvalidIdNumber, mask
from domain.id_numbers import validate as validate_id
from domain.person_names import InvalidName
from domain.person_names import validate as validate_name
from extensions import db
from models import Account, ArchiveRecord, Role

COLUMNS = ["姓名", "证件号码", "资格级别", "证书编号", "取得日期"]
LEVELS = ["初级", "中级", "高级", "正高级"]


@dataclass
class ImportReport:
    accepted: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (row number, reason)


def read_rows(path: Path) -> list[tuple[int, dict]]:
    """(line number in the file, row) for every non-blank row, so reports name the right line."""
    if path.suffix.lower() == ".xlsx":
        return _read_xlsx(path)
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValueError("文件编码无法识别，请保存为UTF-8或GBK编码的CSV")
    reader = csv.DictReader(io.StringIO(text))
    return [(reader.line_num, row) for row in reader
            if any(str(value or "").strip() for value in row.values())]  # ",,,," from Excel


def _read_xlsx(path: Path) -> list[tuple[int, dict]]:
    from openpyxl import load_workbook
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = workbook.active.iter_rows(values_only=True)
        header = [str(cell or "").strip() for cell in next(rows, [])]
        return [(number, dict(zip(header, row, strict=False))) for number, row in enumerate(rows, start=2)
                if any(cell not in (None, "") for cell in row)]
    finally:
        workbook.close()


def _parse_date(value) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-")
    for fmt in ("%Y-%m-%d", "%Y%m%d", "%Y-%m"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"取得日期“{text}”无法识别，应为YYYY-MM-DD")


def _clean_row(row: dict) -> dict:
    missing = [c for c in COLUMNS if c not in row]
    if missing:
        raise ValueError("缺少列：" + "、".join(missing))
    name = validate_name(str(row["姓名"] or ""))
    id_number = validate_id(RESIDENT_ID, str(row["证件号码"] or ""))
    level = str(row["资格级别"] or "").strip().removesuffix("会计师").removesuffix("资格")
    level = {"初级会计": "初级", "助理": "初级", "正高": "正高级"}.get(level, level)
    if level not in LEVELS:
        raise ValueError(f"资格级别“{row['资格级别']}”应为初级、中级、高级或正高级")
    certificate = str(row["证书编号"] or "").strip()
    if not certificate or len(certificate) > 40:
        raise ValueError("证书编号为空或超过40个字符")
    obtained = _parse_date(row["取得日期"])
    return dict(name=name, id_number=id_number, level=level, certificate_number=certificate,
                obtained_on=obtained)


def import_rows(rows) -> ImportReport:
    """`rows`: dicts (numbered from line 2, after the header) or (line number, dict) pairs."""
    report = ImportReport()
    numbered = [row if isinstance(row, tuple) else (index, row)
                for index, row in enumerate(rows, start=2)]
    for number, row in numbered:
        try:
            clean = _clean_row(row)
        except (ValueError, InvalidIdNumber, InvalidName) as problem:
            report.rejected.append((number, str(problem)))
            continue
        outcome = _import_one(clean)
        if outcome == "accepted":
            report.accepted += 1
        elif outcome == "unchanged":
            report.unchanged += 1
        else:
            report.rejected.append((number, outcome))
    audit.record("archive.import", details={"accepted": report.accepted,
                                            "unchanged": report.unchanged,
                                            "rejected": len(report.rejected)})
    db.session.commit()
    return report


def _import_one(clean: dict) -> str:
    account = find_by_id_number(clean["id_number"])
    if account is not None and (account.role != Role.APPLICANT or account.name != clean["name"]):
        return f"证件号码 {mask(clean['id_number'])} 已有姓名不同的账号，未导入，请人工核实"
    record = db.session.scalar(sa.select(ArchiveRecord).where(
        ArchiveRecord.id_number == clean["id_number"], ArchiveRecord.level == clean["level"]))
    changed = False
    if record is None:
        db.session.add(ArchiveRecord(**clean))
        changed = True
    elif (record.certificate_number, record.obtained_on) != (clean["certificate_number"],
                                                             clean["obtained_on"]):
        in_use = account is not None and not account.must_bind_phone
        if in_use:
            return f"证件号码 {mask(clean['id_number'])} 的账号已在使用，未覆盖其资格记录"
        record.certificate_number = clean["certificate_number"]
        record.obtained_on = clean["obtained_on"]
        changed = True
    if account is None:
        db.session.add(Account(
            role=Role.APPLICANT, id_type=RESIDENT_ID, id_number=clean["id_number"],
            name=clean["name"], phone=None, must_bind_phone=True, imported=True,
            password_hash=hasher().hash(initial_password(clean["id_number"]))))
        changed = True
    db.session.flush()
    return "accepted" if changed else "unchanged"


def initial_password(id_number: str) -> str:
    return id_number[-6:]


def import_file(path: Path) -> ImportReport:
    return import_rows(read_rows(path))


def run_import_job(job) -> dict:
    """The archive import as a background job: the file was stored by whoever queued it."""
    import tempfile

    from models import StoredFile
    stored = db.session.get(StoredFile, job.payload["file_id"])
    suffix = Path(stored.filename).suffix.lower() or ".csv"
    with tempfile.NamedTemporaryFile(suffix=suffix) as copy:
        copy.write(stored.content)
        copy.flush()
        report = import_file(Path(copy.name))
    return {"accepted": report.accepted, "unchanged": report.unchanged,
            "rejected": [[number, reason] for number, reason in report.rejected]}
