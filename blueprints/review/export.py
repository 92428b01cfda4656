"""Excel export of the reviewer's filtered list, written row by row (openpyxl write-only) and
streamed. ID numbers are text; user text that starts with = + - @ is escaped so that Excel
shows it instead of running it as a formula."""
import tempfile
from urllib.parse import quote

from flask import Response, stream_with_context
from openpyxl import Workbook

from blueprints.main.template_filters import local_time
from domain import review_queue
from domain.sections import first

HEADER = ["姓名", "证件类型", "证件号码", "手机号码", "所属财政局", "状态", "提交时间", "工作单位"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_text(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _row(application) -> list[str]:
    account = application.account
    work = application.section("work")
    unit = first(work.data, "unit_name") if work is not None and work.data else ""
    return [safe_text(v) for v in (
        account.name, account.id_type, account.id_number, account.phone or "",
        application.jurisdiction.bureau_name if application.jurisdiction else "",
        application.status_label, local_time(application.submitted_at), unit)]


def write_workbook(rows, target) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("审核列表")
    sheet.append(HEADER)
    for application in rows:
        sheet.append(_row(application))
    workbook.save(target)


def export_response(region, list_filter) -> Response:
    def generate():
        with tempfile.TemporaryFile() as spool:
            write_workbook(review_queue.all_rows(region, list_filter), spool)
            spool.seek(0)
            while chunk := spool.read(64 * 1024):
                yield chunk

    name = quote("会计人员信息审核列表.xlsx")
    return Response(stream_with_context(generate()), mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename=review-list.xlsx; filename*=UTF-8''{name}",
        "Cache-Control": "private, no-store"})
