"""Archive files as administrators have them, read row by row so that a province's file
(400,000 rows) takes little memory: CSV in UTF-8 (with or without BOM) or GBK/GB18030, separated
by commas, tabs or semicolons, or XLSX.
And the file of rejected rows, written so that Excel opens it and keeps the ID numbers intact."""
import codecs
import csv
import io
import re
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePath
from typing import BinaryIO

from domain.archive_rows import COLUMNS, clean_text

REASON_COLUMN = "拒绝原因"
# Names older systems give the columns; the key is the cleaned header text.
ALIASES = {
    "身份证号码": "证件号码", "身份证号": "证件号码", "公民身份号码": "证件号码", "证件号": "证件号码",
    "资格等级": "资格级别", "级别": "资格级别", "资格名称": "资格级别",
    "证书号码": "证书编号", "证书号": "证书编号", "资格证书编号": "证书编号", "管理号": "证书编号",
    "取得时间": "取得日期", "取得资格日期": "取得日期", "取得资格时间": "取得日期", "批准日期": "取得日期",
}


class UnreadableFile(ValueError):
    """The whole file cannot be read: the message says why and what to do."""


@dataclass
class ArchiveFile:
    header: list[str]            # the first row, as in the file
    total: int                   # data rows, blank ones included: for progress only
    rows: Iterator[tuple[int, dict, list]]  # (line in the file, {column: value}, the row's cells)

    def require_columns(self) -> None:
        known = {_column(cell) for cell in self.header}
        missing = [column for column in COLUMNS if column not in known]
        if missing:
            raise UnreadableFile(f"文件缺少列：{'、'.join(missing)}。第一行应为列名："
                                 f"{'、'.join(COLUMNS)}（也可用“身份证号码”等常见的列名）")


def _column(cell) -> str:
    text = re.sub(r"\s+", "", clean_text(cell))
    return ALIASES.get(text, text)


def _keyed(header: list) -> list[tuple[int, str]]:
    """(index, column name) of each header cell; the first of two cells of one column wins."""
    seen, keyed = set(), []
    for index, cell in enumerate(header):
        column = _column(cell)
        if column and column not in seen:
            seen.add(column)
            keyed.append((index, column))
    return keyed


def kind_of(filename: str, head: bytes) -> str:
    suffix = PurePath(filename or "").suffix.lower()
    if suffix == ".xls" or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile("这是旧版Excel（.xls）文件，请在Excel中“另存为”.xlsx或CSV（逗号分隔）后上传")
    if suffix in (".xlsx", ".xlsm") or head.startswith(b"PK"):
        return "xlsx"
    return "csv"


@contextmanager
def open_archive(stream: BinaryIO, filename: str):
    """An ArchiveFile over `stream` (a seekable binary file); UnreadableFile if it cannot be."""
    stream.seek(0)
    kind = kind_of(filename, stream.read(8))
    stream.seek(0)
    if kind == "xlsx":
        with _open_xlsx(stream) as archive:
            yield archive
    else:
        with _open_csv(stream) as archive:
            yield archive


# --- CSV --------------------------------------------------------------------------------------

def _encoding_and_lines(stream: BinaryIO) -> tuple[str, int]:
    """The first encoding that decodes the whole file, read in chunks; and its line count."""
    for encoding, name in (("utf-8", "utf-8-sig"), ("gb18030", "gb18030")):
        decoder = codecs.getincrementaldecoder(encoding)()
        stream.seek(0)
        lines = 0
        try:
            while chunk := stream.read(1 << 20):
                decoder.decode(chunk)
                lines += chunk.count(b"\n")
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        stream.seek(0)
        return name, lines
    raise UnreadableFile("文件编码无法识别，请在Excel中另存为“CSV UTF-8（逗号分隔）”或GBK编码的CSV后上传")


@contextmanager
def _open_csv(stream: BinaryIO):
    encoding, lines = _encoding_and_lines(stream)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    try:
        first_line = text.readline()
        text.seek(0)
        # Excel's 文本文件（制表符分隔） and European CSVs use other separators.
        reader = csv.reader(text, delimiter=max(",\t;", key=first_line.count))
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            raise UnreadableFile("文件是空的，或第一行不是列名。第一行应为：" + "、".join(COLUMNS))
        keyed = _keyed(header)

        def rows():
            for cells in reader:
                if any(cell.strip() for cell in cells):  # ",,,," lines from Excel
                    yield reader.line_num, {column: cells[index] if index < len(cells) else ""
                                            for index, column in keyed}, cells

        yield ArchiveFile(header=header, total=max(lines - 1, 0), rows=rows())
    finally:
        text.detach()  # the caller owns the stream


# --- XLSX -------------------------------------------------------------------------------------

@contextmanager
def _open_xlsx(stream: BinaryIO):
    from openpyxl import load_workbook
    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise UnreadableFile("文件不是有效的Excel（.xlsx）文件，请用Excel打开后另存为.xlsx或CSV再上传") \
            from None
    try:
        sheet = workbook.active
        cells = sheet.iter_rows(values_only=True)
        header = list(next(cells, None) or [])
        if not any(cell not in (None, "") for cell in header):
            raise UnreadableFile("第一个工作表的第一行应为列名：" + "、".join(COLUMNS))
        keyed = _keyed(header)

        def rows():
            for number, values in enumerate(cells, start=2):
                if any(value is not None and str(value).strip() for value in values):
                    yield number, {column: values[index] if index < len(values) else None
                                   for index, column in keyed}, list(values)

        yield ArchiveFile(header=[clean_text(cell) for cell in header],
                          total=max((sheet.max_row or 1) - 1, 0), rows=rows())
    finally:
        workbook.close()


# --- the rejected rows ------------------------------------------------------------------------

def cell_text(value) -> str:
    """A cell as text, the way the administrator saw it in Excel."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d" if value.time() == datetime.min.time()
                              else "%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_LONG_DIGITS = re.compile(r"^(\d{12,}[\dXx]?|0\d+)$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def excel_safe(text: str) -> str:
    """Long digit strings (ID numbers) as ="…", so Excel keeps every digit and the leading zeros
    (saving as CSV writes the digits back); anything else that Excel would run as a formula is
    kept as text by a leading apostrophe."""
    if _LONG_DIGITS.match(text):
        return f'="{text}"'
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


class RejectedRows:
    """The rejected rows as a CSV for Excel: UTF-8 with a BOM (or Excel reads it as GBK), the
    file's own columns and 拒绝原因 last, so the administrator fixes the rows and uploads the
    file again. Spooled to disk past 1 MB."""

    def __init__(self, header: list):
        self.count = 0
        self._keep = [index for index, cell in enumerate(header)
                      if _column(cell) != REASON_COLUMN]  # a file uploaded again: one reason
        self._spool = tempfile.SpooledTemporaryFile(max_size=1 << 20, mode="w+b")
        self._text = io.TextIOWrapper(self._spool, encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._text)
        self._writer.writerow([cell_text(header[i]) for i in self._keep] + [REASON_COLUMN])

    def add(self, cells: list, reason: str) -> None:
        self.count += 1
        values = [cells[i] if i < len(cells) else None for i in self._keep]
        self._writer.writerow([excel_safe(cell_text(v)) for v in values] + [reason])

    def content(self) -> bytes:
        self._text.flush()
        self._spool.seek(0)
        return self._spool.read()

    def close(self) -> None:
        self._text.close()
