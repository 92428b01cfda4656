"""Import of existing accountants (原有会计人员) from the archive: CSV or XLSX with the columns
姓名, 证件号码, 资格级别, 证书编号, 取得日期 (archive_rows says what each may look like).

Each accepted row gives an applicant account (if none exists) that logs in with the initial
password, the last 6 characters of the ID number (initial_password: nothing is hashed here),
and a qualification record. Running the same file twice changes nothing; an account someone
already uses is never touched, and one of another name or a member of staff is never joined.

Rows go in batches of BATCH_ROWS, one transaction each: the accounts and records already there
are read for the whole batch at once, and the new ones written with one executemany each, so a
province's 400,000 rows take minutes, in memory that does not grow with the file. The CLI
(`flask accounts import-archive`) and the administrators' upload (a job) run the same code."""
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import sqlalchemy as sa

from domain import audit, initial_password
from domain.archive_files import ArchiveFile, RejectedRows, cell_text, open_archive
from domain.archive_rows import RowProblem, clean_row
from domain.id_numbers import RESIDENT_ID, mask
from extensions import db
from models import Account, ArchiveRecord, Role, utcnow

BATCH_ROWS = 2000
REJECTED_KEPT = 200          # rejected rows kept in the report (all of them are in the file)
BATCH_TRIES = 3              # a batch that met a concurrent registration is read and tried again
# PostgreSQL's statistics are refreshed after this many rows written (autovacuum may lag behind
# a bulk load, or be off): stale ones make the batch's IN (…) lookups scan whole tables.
ANALYSE_AFTER_ROWS = 50_000
ACCEPTED, UNCHANGED = "accepted", "unchanged"


@dataclass
class ImportReport:
    total: int = 0           # rows in the file (an estimate until the end): for progress
    done: int = 0
    accepted: int = 0
    unchanged: int = 0
    rejected_count: int = 0
    # (line in the file, reason, name, masked ID number), the first REJECTED_KEPT of them
    rejected_rows: list[tuple[int, str, str, str]] = field(default_factory=list)

    @property
    def rejected(self) -> list[tuple[int, str]]:
        return [(number, reason) for number, reason, _name, _id in self.rejected_rows]

    def as_result(self) -> dict:
        return {"total": self.total, "done": self.done, "accepted": self.accepted,
                "unchanged": self.unchanged, "rejected": self.rejected_count,
                "rejected_rows": [list(row) for row in self.rejected_rows]}

    def progress(self) -> dict:
        return {"total": self.total, "done": self.done, "accepted": self.accepted,
                "unchanged": self.unchanged, "rejected": self.rejected_count}


class _Rejections:
    """Where rejected rows go: the report (the first few), the rejected-rows file, a callback."""

    def __init__(self, report, rejected_file, on_rejected):
        self.report, self.file, self.on_rejected = report, rejected_file, on_rejected

    def add(self, number: int, row: dict, cells: list, reason: str) -> None:
        report = self.report
        report.rejected_count += 1
        if len(report.rejected_rows) < REJECTED_KEPT:
            report.rejected_rows.append((number, reason, cell_text(row.get("姓名"))[:30],
                                         mask(cell_text(row.get("证件号码"))[:40])))
        if self.file is not None:
            self.file.add(cells, reason)
        if self.on_rejected is not None:
            self.on_rejected(number, reason)


def import_archive(archive: ArchiveFile, *, rejected_file: RejectedRows | None = None,
                   on_rejected: Callable[[int, str], None] | None = None,
                   on_batch: Callable[[ImportReport], None] | None = None) -> ImportReport:
    """Import every row; commit after each batch (`on_batch` runs inside its transaction)."""
    report = ImportReport(total=archive.total)
    rejections = _Rejections(report, rejected_file, on_rejected)
    batch, unanalysed = [], 0
    for numbered in archive.rows:
        batch.append(numbered)
        if len(batch) == BATCH_ROWS:
            unanalysed += _import_batch(batch, report, rejections, on_batch)
            batch = []
            if unanalysed >= ANALYSE_AFTER_ROWS:
                unanalysed = _analyse()
    if batch or report.done == 0:
        unanalysed += _import_batch(batch, report, rejections, on_batch)
    if unanalysed >= BATCH_ROWS:
        _analyse()
    report.total = report.done
    return report


def _analyse() -> int:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("ANALYZE accounts, archive_records"))
        db.session.commit()
    return 0


def _import_batch(batch, report, rejections, on_batch) -> int:
    """Import one batch in one transaction; return how many rows it wrote."""
    problems, clean = [], []
    for number, row, cells in batch:
        try:
            clean.append((number, row, cells, clean_row(row)))
        except RowProblem as problem:
            problems.append((number, row, cells, str(problem)))
    for attempt in range(BATCH_TRIES):
        try:
            outcomes, written = _write([row for *_rest, row in clean])
            after = _after(report, len(batch), outcomes, len(problems))
            if on_batch is not None:
                on_batch(after)
            db.session.commit()
            break
        except sa.exc.IntegrityError:
            db.session.rollback()  # someone registered one of these ID numbers meanwhile
            if attempt == BATCH_TRIES - 1:
                raise
    report.done, report.accepted, report.unchanged = after.done, after.accepted, after.unchanged
    refused = problems + [(number, row, cells, outcome) for (number, row, cells, _), outcome
                          in zip(clean, outcomes, strict=True)
                          if outcome not in (ACCEPTED, UNCHANGED)]
    for number, row, cells, reason in sorted(refused, key=lambda item: item[0]):
        rejections.add(number, row, cells, reason)
    return written


def _after(report: ImportReport, rows: int, outcomes: list[str], problems: int) -> ImportReport:
    """The counts as they will be once this batch commits (its rejected rows not listed yet)."""
    accepted, unchanged = outcomes.count(ACCEPTED), outcomes.count(UNCHANGED)
    return ImportReport(total=max(report.total, report.done + rows), done=report.done + rows,
                        accepted=report.accepted + accepted,
                        unchanged=report.unchanged + unchanged,
                        rejected_count=report.rejected_count + problems + len(outcomes)
                        - accepted - unchanged)


def _write(clean: list[dict]) -> tuple[list[str], int]:
    """Decide every row of the batch against what is stored and what the batch itself adds,
    then write: one INSERT executemany for accounts, one for records, one UPDATE for records.
    Returns each row's outcome and the number of rows written."""
    if not clean:
        return [], 0
    if db.session.get_bind().dialect.name == "postgresql":
        # Two imports at once take turns batch by batch, each reading what the other wrote.
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(7310002)"))
    ids = {row["id_number"] for row in clean}
    batch = _Batch(
        accounts={a.id_number: a for a in db.session.execute(
            sa.select(Account.id_number, Account.role, Account.name, Account.must_bind_phone)
            .where(Account.id_number.in_(ids)))},
        records={(r.id_number, r.level): SimpleNamespace(**r._asdict()) for r in db.session.execute(
            sa.select(ArchiveRecord.id, ArchiveRecord.id_number, ArchiveRecord.level,
                      ArchiveRecord.certificate_number, ArchiveRecord.obtained_on)
            .where(ArchiveRecord.id_number.in_(ids)))})
    outcomes = [batch.decide(row) for row in clean]
    return outcomes, batch.flush()


class _Batch:
    """The rule for one row (as in a row-by-row import), against the stored rows and the rows
    this batch already decided to add."""

    def __init__(self, accounts: dict, records: dict):
        self.accounts, self.records = accounts, records
        self.new_accounts, self.new_records, self.changed_records = [], {}, {}

    def decide(self, row: dict) -> str:
        account = self.accounts.get(row["id_number"])
        masked = mask(row["id_number"])
        if account is not None and account.role != Role.APPLICANT:
            return f"证件号码 {masked} 已是工作人员账号，未导入，请人工核实"
        if account is not None and account.name != row["name"]:
            return f"证件号码 {masked} 已有姓名不同的账号，未导入，请人工核实"
        key = (row["id_number"], row["level"])
        record = self.records.get(key)
        changed = False
        if record is None:
            self.new_records[key] = self.records[key] = SimpleNamespace(id=None, **row)
            changed = True
        elif (record.certificate_number, record.obtained_on) != (row["certificate_number"],
                                                                 row["obtained_on"]):
            if account is not None and not account.must_bind_phone:
                return f"证件号码 {masked} 的账号已在使用，未覆盖其资格记录"
            self._change(key, record, row)
            changed = True
        if account is None:
            self.new_accounts.append(row)
            self.accounts[row["id_number"]] = SimpleNamespace(
                role=Role.APPLICANT, name=row["name"], must_bind_phone=True)
            changed = True
        return ACCEPTED if changed else UNCHANGED

    def _change(self, key, record, row) -> None:
        values = {"certificate_number": row["certificate_number"],
                  "obtained_on": row["obtained_on"]}
        if record.id is None:  # added earlier in this batch: change what will be inserted
            self.new_records[key] = self.records[key] = SimpleNamespace(id=None, **{**row, **values,
                                                                        "name": record.name})
        else:
            self.changed_records[record.id] = {"id": record.id, **values}
            self.records[key] = SimpleNamespace(**{**vars(record), **values})

    def flush(self) -> int:
        now = utcnow()
        if self.new_accounts:
            db.session.execute(sa.insert(Account), [dict(
                role=Role.APPLICANT, id_type=RESIDENT_ID, id_number=row["id_number"],
                name=row["name"], phone=None, password_hash=initial_password.MARKER,
                must_bind_phone=True, must_change_password=False, imported=True,
                is_enabled=True, failed_logins=0, created_at=now, password_changed_at=now)
                for row in self.new_accounts])
        if self.new_records:
            db.session.execute(sa.insert(ArchiveRecord), [dict(
                id_number=r.id_number, name=r.name, level=r.level,
                certificate_number=r.certificate_number, obtained_on=r.obtained_on,
                imported_at=now) for r in self.new_records.values()])
        if self.changed_records:
            db.session.execute(sa.update(ArchiveRecord), list(self.changed_records.values()))
        return len(self.new_accounts) + len(self.new_records) + len(self.changed_records)


# --- the three ways in: rows (tests), a file (CLI), an uploaded file (a job) ------------------

def import_rows(rows: Iterable) -> ImportReport:
    """`rows`: dicts (numbered from line 2, after the header) or (line number, dict) pairs."""
    numbered = [row if isinstance(row, tuple) else (index, row)
                for index, row in enumerate(rows, start=2)]
    archive = ArchiveFile(header=[], total=len(numbered),
                          rows=iter([(number, row, list(row.values())) for number, row in numbered]))
    report = import_archive(archive)
    audit_run(report, source="rows")
    db.session.commit()
    return report


def import_file(path: Path, *, on_rejected=None, on_batch=None,
                rejected_path: Path | None = None) -> ImportReport:
    """The CLI's import; UnreadableFile (a ValueError) if the file cannot be read at all."""
    with open(path, "rb") as stream, open_archive(stream, path.name) as archive:
        archive.require_columns()
        rejected_file = RejectedRows(archive.header) if rejected_path else None
        report = import_archive(archive, rejected_file=rejected_file, on_rejected=on_rejected,
                                on_batch=on_batch)
    if rejected_file is not None:
        rejected_path.write_bytes(rejected_file.content())
        rejected_file.close()
    audit_run(report, source="cli", filename=path.name)
    db.session.commit()
    return report


def audit_run(report: ImportReport, *, source: str, filename: str = "", actor=None, job_id=None,
           ip: str = "") -> None:
    details = {"accepted": report.accepted, "unchanged": report.unchanged,
               "rejected": report.rejected_count, "rows": report.done, "source": source}
    if job_id is not None:
        details["job"] = job_id
    audit.record("archive.import", actor=actor, subject=filename[:120], ip=ip, details=details)


def archive_qualifications(id_number: str):
    """The archive's qualification records of an ID number as the collection's answers (oldest
    first, at most the collection's limit), or None when the archive has none."""
    from domain.answers import MAX_QUALIFICATIONS, Qualification, QualificationAnswers
    records = list(db.session.scalars(
        sa.select(ArchiveRecord).where(ArchiveRecord.id_number == id_number)
        .order_by(ArchiveRecord.obtained_on)))
    if not records:
        return None
    return QualificationAnswers(tuple(
        Qualification(record.level, record.certificate_number, record.obtained_on)
        for record in records[:MAX_QUALIFICATIONS]))
