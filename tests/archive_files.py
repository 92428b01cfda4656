"""Archive files for the import tests, as administrators' tools make them: CSV written by Python's
csv module in a chosen encoding, XLSX by openpyxl (cells keep their Python types: a float is a
number cell, a datetime a date cell)."""
import csv
import io

from openpyxl import Workbook

HEADER = ["姓名", "证件号码", "资格级别", "证书编号", "取得日期"]


def csv_bytes(rows, header=HEADER, encoding="utf-8-sig") -> bytes:
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode(encoding)


def xlsx_bytes(rows, header=HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def archive_bytes(kind: str, rows, header=HEADER) -> bytes:
    return xlsx_bytes(rows, header) if kind == "xlsx" else csv_bytes(rows, header)


def write_archive(path, kind: str, rows, header=HEADER):
    path = path.with_suffix("." + kind)
    path.write_bytes(archive_bytes(kind, rows, header))
    return path


def read_csv(content: bytes) -> list[list[str]]:
    """A downloaded CSV: UTF-8 with BOM."""
    assert content.startswith(b"\xef\xbb\xbf"), content[:20]
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
