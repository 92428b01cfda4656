"""The reviewer's list as an Excel workbook, written row by row (openpyxl write-only). ID numbers
and phones are masked as on the list unless the reviewer asked for them in full; they are text; user text that starts with = + - @ is escaped so that Excel shows it instead of
running it as a formula."""
import tempfile

from openpyxl import Workbook

from domain import answers
from domain.clock import local_time
from domain.masking import ID_NUMBER, PHONE, shown

HEADER = ["姓名", "证件类型", "证件号码", "手机号码", "所属财政局", "状态", "提交时间", "工作单位",
          "类型"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _row(application, full: bool) -> list[str]:
    account = application.account
    work = answers.of(application).work
    unit = work.employer.name if work is not None and work.employed else ""
    return [safe_text(v) for v in (
        account.name, account.id_type, shown(account.id_number, ID_NUMBER, revealed=full),
        shown(account.phone or "", PHONE, revealed=full),
        application.jurisdiction.bureau_name if application.jurisdiction else "",
        application.status_label, local_time(application.submitted_at), unit,
        application.kind_label)]


def write_workbook(rows, target, full: bool = False) -> int:
    """Write every application of `rows` to `target`; return how many. ID numbers and phones
    are masked unless `full`."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("审核列表")
    sheet.append(HEADER)
    count = 0
    for application in rows:
        sheet.append(_row(application, full))
        count += 1
    workbook.save(target)
    return count


def workbook_bytes(rows, full: bool = False) -> tuple[bytes, int]:
    with tempfile.TemporaryFile() as spool:
        count = write_workbook(rows, spool, full)
        spool.seek(0)
        return spool.read(), count
