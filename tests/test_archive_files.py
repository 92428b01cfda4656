"""Real archive files, as administrators bring them from older systems and Excel: each quirk as a
CSV and as an XLSX made with openpyxl, through `flask accounts import-archive` (the code path the
upload's job runs too); every refusal says what is wrong and what to do, in Chinese."""
import re
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from domain import archive_import
from extensions import db
from models import Account, ArchiveRecord
from tests.archive_files import HEADER, read_csv, write_archive
from tests.helpers import make_id

KINDS = ["csv", "xlsx"]
ID_A = make_id(seq="111")
ID_B = make_id(region="530103", birth="19851231", seq="222")
ID_C = make_id(region="532301", birth="19720229", seq="333")
ID_X = next(make_id(seq=f"{n:03d}") for n in range(1000) if make_id(seq=f"{n:03d}")[-1] == "X")
EXCEL_WORDS = ("Excel", "数值", "丢失", "文本")


def run_import(app, path, *extra):
    result = app.test_cli_runner().invoke(args=["accounts", "import-archive", str(path), *extra])
    assert result.exit_code == 0, result.output
    counts = {key: int(value) for key, value in
              re.findall(r"^(accepted|unchanged|rejected): (\d+)$", result.output, re.M)}
    reasons = {int(row): reason for row, reason in
               re.findall(r"^  row (\d+): (.*)$", result.output, re.M)}
    assert counts["rejected"] == len(reasons)
    return counts, reasons


def stored_records(app) -> dict:
    with app.app_context():
        rows = db.session.execute(sa.select(ArchiveRecord.id_number, ArchiveRecord.level,
                                            ArchiveRecord.certificate_number,
                                            ArchiveRecord.obtained_on,
                                            ArchiveRecord.name)).all()
        db.session.remove()
    return {(r.id_number, r.level): r for r in rows}


def account_names(app) -> dict:
    with app.app_context():
        names = dict(db.session.execute(sa.select(Account.id_number, Account.name)).all())
        db.session.remove()
    return names


# --- ID numbers Excel turned into numbers ------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_an_id_number_excel_turned_into_a_number_says_so(app, tmp_path, kind):
    if kind == "csv":
        spoilt = ["5.30102E+17", "530102199001011000", "5.30102199001011E+17"]
    else:
        spoilt = [5.30102199001011e17, 530102199001011000, float(ID_B)]
    rows = [["王五", value, "中级", f"Z{n}", "2010-05-01"] for n, value in enumerate(spoilt)]
    rows.append(["赵六", ID_C, "中级", "Z9", "2010-05-01"])
    counts, reasons = run_import(app, write_archive(tmp_path / "archive", kind, rows))
    assert counts == {"accepted": 1, "unchanged": 0, "rejected": 3}
    for row in (2, 3, 4):
        assert all(word in reasons[row] for word in EXCEL_WORDS), reasons[row]
        assert "您填写了" not in reasons[row]
        assert "重新录入" in reasons[row] and "重新导出" in reasons[row]


@pytest.mark.parametrize("kind", KINDS)
def test_id_numbers_with_full_width_digits_spaces_and_text_marks(app, tmp_path, kind):
    full_width = ID_A.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    rows = [
        ["王五", full_width, "中级", "Z1", "2010-05-01"],
        ["赵六", f"\u3000{ID_B[:6]} {ID_B[6:14]} {ID_B[14:]}\u200b ", "中级", "Z2", "2010-05-01"],
        ["孙八", ID_X.lower(), "中级", "Z3", "2010-05-01"],
        # how our rejected-rows file keeps digits as text (in an XLSX that is a formula, whose
        # value Excel stores beside it and openpyxl does not compute: CSV only)
        ["周九", f'="{ID_C}"' if kind == "csv" else f"'{ID_C}", "中级", "Z4", "2010-05-01"],
    ]
    counts, reasons = run_import(app, write_archive(tmp_path / "archive", kind, rows))
    assert counts == {"accepted": 4, "unchanged": 0, "rejected": 0}, reasons
    assert set(account_names(app)) == {ID_A, ID_B, ID_X, ID_C}


# --- 资格级别 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_qualification_titles_and_old_spellings_map_to_levels(app, tmp_path, kind):
    spellings = {"助理会计师": "初级", "会计师": "中级", "高级会计师": "高级", "正高级会计师": "正高级",
                 "初级会计": "初级", "中级会计师": "中级", "正高": "正高级", " 中级 ": "中级",
                 "初级资格": "初级", "中級會計師": "中级", "会计员": "初级"}
    rows = [[f"王{chr(0x4e00 + n)}", make_id(seq=f"{n:03d}"), spelling, f"Z{n}", "2010-05-01"]
            for n, spelling in enumerate(spellings)]
    rows.append(["孙八", ID_C, "特级", "Z99", "2010-05-01"])
    counts, reasons = run_import(app, write_archive(tmp_path / "archive", kind, rows))
    assert counts == {"accepted": len(spellings), "unchanged": 0, "rejected": 1}
    records = stored_records(app)
    for n, level in enumerate(spellings.values()):
        assert (make_id(seq=f"{n:03d}"), level) in records
    refusal = reasons[len(rows) + 1]
    assert "资格级别“特级”无法识别" in refusal and "请填写初级、中级、高级或正高级" in refusal


# --- 取得日期 ---------------------------------------------------------------------------------------

DATES_BOTH = {"2010年9月1日": date(2010, 9, 1), "2010年09月": date(2010, 9, 1),
              "2010-9-1": date(2010, 9, 1), "2010/9/1": date(2010, 9, 1),
              "2010.9.1": date(2010, 9, 1), "20100901": date(2010, 9, 1),
              "２０１１年３月５日": date(2011, 3, 5), "2012.6.1": date(2012, 6, 1),
              "2013-07-08 00:00:00": date(2013, 7, 8), "": None}


@pytest.mark.parametrize("kind", KINDS)
def test_common_chinese_date_forms_and_excel_dates(app, tmp_path, kind):
    dates = dict(DATES_BOTH)
    if kind == "xlsx":  # number and date cells
        dates.update({40422: date(2010, 9, 1), 40422.75: date(2010, 9, 1),
                      datetime(2014, 2, 3): date(2014, 2, 3), date(2015, 4, 5): date(2015, 4, 5)})
    else:
        dates["40422"] = date(2010, 9, 1)  # a serial saved as text
    rows = [[f"李{chr(0x4e00 + n)}", make_id(seq=f"{n:03d}"), "中级", f"Z{n}", value]
            for n, value in enumerate(dates)]
    counts, reasons = run_import(app, write_archive(tmp_path / "archive", kind, rows))
    assert counts == {"accepted": len(dates), "unchanged": 0, "rejected": 0}, reasons
    records = stored_records(app)
    for n, expected in enumerate(dates.values()):
        assert records[(make_id(seq=f"{n:03d}"), "中级")].obtained_on == expected, n


@pytest.mark.parametrize("kind", KINDS)
def test_impossible_dates_are_refused_saying_how_to_write_them(app, tmp_path, kind):
    values = ["去年", "2010年2月30日", "2099-01-01", "1949.9.30"]
    rows = [[f"李{chr(0x4e00 + n)}", make_id(seq=f"{n:03d}"), "中级", f"Z{n}", value]
            for n, value in enumerate(values)]
    counts, reasons = run_import(app, write_archive(tmp_path / "archive", kind, rows))
    assert counts["rejected"] == 4
    assert "取得日期“去年”无法识别，请写成2010-09-01或2010年9月1日" in reasons[2]
    assert "不是有效的日期，请核对年、月、日" in reasons[3]
    assert "晚于今天，请核对" in reasons[4]
    assert "早于1950年，请核对" in reasons[5]


# --- names, certificate numbers, headers --------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_unicode_variants_and_stray_spaces_in_names_certificates_and_headers(app, tmp_path, kind):
    header = [" 姓名", "身份证号码\u200b", "资格级别 ", "证书编号", "取得日期"]
    rows = [
        ["  阿依古丽・买买提 ", ID_A, "中级", " ZJ 2010 001 ", "2010-05-01"],   # katakana dot
        ["\ufeff王五", ID_B, "中级", "ＺＪ２０１０００２", "2010-05-01"],          # full-width
        ["⾦⼤⼭", ID_C, "中级", "ZJ3", "2010-05-01"],                           # Kangxi radicals
    ]
    counts, reasons = run_import(app, write_archive(tmp_path / "archive", kind, rows, header))
    assert counts == {"accepted": 3, "unchanged": 0, "rejected": 0}, reasons
    names = account_names(app)
    assert names == {ID_A: "阿依古丽·买买提", ID_B: "王五", ID_C: "金大山"}
    records = stored_records(app)
    assert records[(ID_A, "中级")].certificate_number == "ZJ2010001"
    assert records[(ID_B, "中级")].certificate_number == "ZJ2010002"


@pytest.mark.parametrize("kind", KINDS)
def test_every_refusal_says_what_to_do(app, tmp_path, kind):
    rows = [
        ["王五", ID_A[:-1] + ("1" if ID_A[-1] != "1" else "2"), "中级", "Z1", "2010-05-01"],
        ["赵六", "5301021990", "中级", "Z2", "2010-05-01"],
        ["孙八", ID_B, "中级", "", "2010-05-01"],
        ["周九", ID_C, "中级", "Z" * 41, "2010-05-01"],
        ["<b>", ID_X, "中级", "Z5", "2010-05-01"],
    ]
    counts, reasons = run_import(app, write_archive(tmp_path / "archive", kind, rows))
    assert counts["rejected"] == 5
    assert "校验位不正确，请逐位核对" in reasons[2]
    assert "证件号码应为18位，您填写了10位" in reasons[3]
    assert "证书编号为空，请按资格证书填写" in reasons[4]
    assert "证书编号超过40个字符，请核对" in reasons[5]
    assert "姓名只能包含汉字、字母和间隔号" in reasons[6]


@pytest.mark.parametrize("separator", ["\t", ";"])
def test_tab_and_semicolon_separated_files_in_gbk(app, tmp_path, separator):
    lines = [HEADER, ["王五", ID_A, "中级", "Z1", "2010-05-01"], ["赵六", ID_B, "初级", "C2", ""]]
    path = tmp_path / "archive.txt"
    path.write_bytes("\r\n".join(separator.join(line) for line in lines).encode("gbk"))
    counts, reasons = run_import(app, path)
    assert counts == {"accepted": 2, "unchanged": 0, "rejected": 0}, reasons
    assert account_names(app) == {ID_A: "王五", ID_B: "赵六"}


@pytest.mark.parametrize("content, filename, words", [
    (b"", "archive.csv", "第一行应为"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "archive.xls", "“另存为”.xlsx或CSV"),
    (b"PK\x03\x04 not really a workbook", "archive.xlsx", "不是有效的Excel"),
    ("姓名,证件号码\n王五,1\n".encode(), "archive.csv", "文件缺少列：资格级别、证书编号、取得日期"),
])
def test_files_that_cannot_be_read_are_refused_whole(app, tmp_path, content, filename, words):
    path = tmp_path / filename
    path.write_bytes(content)
    result = app.test_cli_runner().invoke(args=["accounts", "import-archive", str(path)])
    assert result.exit_code == 1 and words in result.output, result.output


# --- the rejected-rows file ---------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_the_cli_writes_the_rejected_rows_for_excel(app, tmp_path, kind):
    header = HEADER + ["备注"]
    leading_zero = "000123456789"
    rows = [
        ["王五", ID_A, "特级", leading_zero, "2010-05-01", "+1+1"],
        ["赵六", ID_B, "中级", "Z2", "2010-05-01", ""],
        ["孙八", ID_C, "中级", "Z3", "去年", "@SUM(A1)"],
    ]
    rejected = tmp_path / "rejected.csv"
    counts, _ = run_import(app, write_archive(tmp_path / "archive", kind, rows, header),
                           "--rejected", str(rejected))
    assert counts == {"accepted": 1, "unchanged": 0, "rejected": 2}
    lines = read_csv(rejected.read_bytes())
    assert lines[0] == header + ["拒绝原因"]
    assert lines[1][:3] == ["王五", f'="{ID_A}"', "特级"]        # Excel keeps all 18 digits
    assert lines[1][3] == f'="{leading_zero}"'                   # and the leading zeros
    assert lines[1][5] == "'+1+1"                                # never run as a formula
    assert "资格级别“特级”无法识别" in lines[1][6]
    assert lines[2][4] == "去年" and lines[2][5] == "'@SUM(A1)" and "取得日期" in lines[2][6]
    assert len(lines) == 3


# --- batches ------------------------------------------------------------------------------------

def test_rows_of_one_person_across_batches_behave_as_one_by_one(app, tmp_path, monkeypatch):
    """Batches of 2: the same person in several batches and twice in one batch."""
    monkeypatch.setattr(archive_import, "BATCH_ROWS", 2)
    rows = [
        ["王五", ID_A, "初级", "C1", "2005-01-01"],      # batch 1: new account, new record
        ["王五", ID_A, "初级", "C1", "2005-01-01"],      # the same again: unchanged
        ["王五", ID_A, "中级", "Z1", "2010-01-01"],      # batch 2: second level
        ["王小五", ID_A, "高级", "G1", "2015-01-01"],    # another name: refused
        ["赵六", ID_B, "中级", "Z2", "2011-01-01"],      # batch 3
        ["赵六", ID_B, "中级", "Z2-corrected", "2011-02-01"],  # corrected in the same batch
        ["王五", ID_A, "中级", "Z1", "2010-01-01"],      # batch 4: unchanged
    ]
    path = write_archive(tmp_path / "archive", "csv", rows)
    counts, reasons = run_import(app, path)
    assert counts == {"accepted": 4, "unchanged": 2, "rejected": 1}
    assert list(reasons) == [5] and "姓名不同" in reasons[5]
    records = stored_records(app)
    assert set(records) == {(ID_A, "初级"), (ID_A, "中级"), (ID_B, "中级")}
    assert records[(ID_B, "中级")].certificate_number == "Z2-corrected"
    assert records[(ID_B, "中级")].obtained_on == date(2011, 2, 1)
    assert account_names(app) == {ID_A: "王五", ID_B: "赵六"}
    # Again: all the same, but the file corrects 赵六's record within itself, so each of his
    # two rows changes it once more (as the rows would one by one); it ends as the last says.
    assert run_import(app, path)[0] == {"accepted": 2, "unchanged": 4, "rejected": 1}
    assert stored_records(app)[(ID_B, "中级")].certificate_number == "Z2-corrected"


def test_a_batch_that_meets_a_registration_is_read_again(app, tmp_path, monkeypatch):
    """Someone registers one of the batch's ID numbers between its read and its write: the
    batch is rolled back and decided again against the new account."""
    original = archive_import._Batch.flush
    raced = []

    def register_first(batch):
        if not raced:
            raced.append(True)
            with db.engine.begin() as connection:
                connection.execute(sa.insert(Account).values(
                    role="applicant", id_type="居民身份证", id_number=ID_B, name="另一人",
                    phone="13800009999", password_hash="x", must_bind_phone=False,
                    must_change_password=False, imported=False, is_enabled=True,
                    failed_logins=0, created_at=datetime(2026, 1, 1),
                    password_changed_at=datetime(2026, 1, 1)))
        return original(batch)

    monkeypatch.setattr(archive_import._Batch, "flush", register_first)
    rows = [["王五", ID_A, "中级", "Z1", "2010-01-01"], ["赵六", ID_B, "中级", "Z2", "2011-01-01"]]
    counts, reasons = run_import(app, write_archive(tmp_path / "archive", "csv", rows))
    assert counts == {"accepted": 1, "unchanged": 0, "rejected": 1}
    assert "已有姓名不同的账号" in reasons[3]
    assert account_names(app) == {ID_A: "王五", ID_B: "另一人"}


def test_statistics_are_refreshed_as_the_tables_grow(app, tmp_path, monkeypatch):
    """PostgreSQL's planner needs fresh statistics for the batches' IN (…) lookups; the import
    asks for them every ANALYSE_AFTER_ROWS rows written and at the end (nothing on SQLite)."""
    monkeypatch.setattr(archive_import, "BATCH_ROWS", 2)
    monkeypatch.setattr(archive_import, "ANALYSE_AFTER_ROWS", 8)
    calls = []
    original = archive_import._analyse
    monkeypatch.setattr(archive_import, "_analyse", lambda: calls.append(1) or original())
    rows = [[f"李{chr(0x4e00 + n)}", make_id(seq=f"{n:03d}"), "中级", f"Z{n}", "2010-01-01"]
            for n in range(5)]                   # 10 rows written: 8 in two batches, then 2
    path = write_archive(tmp_path / "archive", "csv", rows)
    assert run_import(app, path)[0]["accepted"] == 5
    assert len(calls) == 2
    calls.clear()
    assert run_import(app, path)[0]["unchanged"] == 5     # nothing written: nothing to refresh
    assert calls == []
