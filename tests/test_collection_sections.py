"""The collection (信息采集) over HTTP: who may reach it, the task list and its status words, the
application status on every page, and the behaviour every section shares — full page and HTMX
fragment, 422 with everything typed kept and a draft stored, 303 (or HX-Redirect) on success, and
the server-side locks of 审核中 / 审核成功 / 审核失败.

The shared helpers here (page parsing, valid answers, database shortcuts) are also used by
tests/test_collection_rules.py."""
import re
from collections import defaultdict
from contextlib import contextmanager
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from domain import applications, staff
from domain.sections import COMPLETED, NEEDS_CHANGES, NOT_STARTED
from extensions import db
from models import Account, Application, ReviewDecision, Section
from tests.helpers import htmx, login, make_id, register

ID_NUMBER = make_id()          # 530102 1990-01-01, 男
PHONE = "13800001111"
NAME = "张三"
CREDIT_CODE = "91110000600037341L"

SECTION_KEYS = ["basic", "work", "education", "qualification"]
TITLES = {"basic": "基本信息", "work": "工作信息", "education": "学历信息",
          "qualification": "专业技术资格信息"}
STATUS_WORDS = {"draft": "未提交", "pending": "审核中", "approved": "审核成功",
                "rejected": "审核失败"}

VALID = {
    "basic": {"ethnicity": "汉族", "political_status": "群众",
              "address": "昆明市五华区某某路1号", "email": "zhangsan@example.com"},
    "work": {"employed": "yes", "unit_name": "云南某某会计服务有限公司",
             "unit_credit_code": CREDIT_CODE, "unit_type": "企业", "unit_prefecture": "530100",
             "unit_county": "530102", "join_date": "2012-07-01",
             "accounting_start_date": "2015-07-01", "posts": ["出纳", "总账"], "duty": ""},
    "education": {"full_time-has": "yes", "full_time-level": "大学本科", "full_time-degree": "学士",
                  "full_time-school": "云南财经大学", "full_time-major": "会计学",
                  "full_time-graduated_on": "2012-07-01",
                  "full_time-certificate_number": "106891201205000123", "part_time-has": "no"},
    "qualification": {"has": "yes", "records-0-level": "初级",
                      "records-0-certificate_number": "Z2014000123",
                      "records-0-obtained_on": "2014-05-20"},
}

# What valid answers are stored as: only the fields that apply, each as a list of strings.
STORED = {
    "basic": {"ethnicity": ["汉族"], "political_status": ["群众"],
              "address": ["昆明市五华区某某路1号"], "email": ["zhangsan@example.com"]},
    "work": {"employed": ["yes"], "unit_name": ["云南某某会计服务有限公司"],
             "unit_credit_code": [CREDIT_CODE], "unit_type": ["企业"],
             "unit_prefecture": ["530100"], "unit_county": ["530102"],
             "join_date": ["2012-07-01"], "accounting_start_date": ["2015-07-01"],
             "posts": ["出纳", "总账"], "duty": []},
    "education": {"full_time-has": ["yes"], "full_time-level": ["大学本科"],
                  "full_time-degree": ["学士"], "full_time-school": ["云南财经大学"],
                  "full_time-major": ["会计学"], "full_time-graduated_on": ["2012-07-01"],
                  "full_time-certificate_number": ["106891201205000123"],
                  "part_time-has": ["no"]},
    "qualification": {"has": ["yes"], "records-0-level": ["初级"],
                      "records-0-certificate_number": ["Z2014000123"],
                      "records-0-obtained_on": ["2014-05-20"]},
}

# Invalid answers: what is typed (all of it must come back) and the error beside each field.
INVALID = {
    "basic": (
        {"ethnicity": "", "political_status": "中共党员", "address": "昆明市盘龙区某某街88号",
         "email": "zhangsan@example"},
        {"ethnicity": "请选择民族",
         "email": "电子邮箱格式不正确，如：name@example.com；没有可不填"}),
    "work": (
        {"employed": "yes", "unit_name": "云南某某有限公司", "unit_credit_code": "91110000600037341X",
         "unit_type": "企业", "unit_prefecture": "530100", "unit_county": "",
         "join_date": "", "accounting_start_date": "2099-01-01", "posts": ["出纳", "稽核"],
         "duty": "总会计师"},
        {"unit_credit_code": "统一社会信用代码校验位不正确，请对照营业执照逐位核对",
         "unit_county": "请选择单位所在县（市、区）",
         "accounting_start_date": "日期不能晚于今天"}),
    "education": (
        {"full_time-has": "yes", "full_time-level": "大学本科", "full_time-degree": "",
         "full_time-school": "云南大学", "full_time-major": "", "full_time-graduated_on": "",
         "full_time-certificate_number": "", "part_time-has": "no"},
        {"full_time-major": "请填写所学专业", "full_time-graduated_on": "请填写毕业日期"}),
    "qualification": (
        {"has": "yes", "records-0-level": "中级", "records-0-certificate_number": "",
         "records-0-obtained_on": "2019-09-01"},
        {"records-0-certificate_number": "请填写资格证书编号"}),
}


# -- reading pages -------------------------------------------------------------------------------

class Page(HTMLParser):
    """What a browser would show and submit: the value of each control, the options offered,
    the error beside each field (by field id), the error summary, the buttons' actions."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.html = html
        self.values = defaultdict(list)
        self.options = defaultdict(list)
        self.controls = set()
        self.errors = {}
        self.summary = []         # (href, text) of each summary item
        self.actions = []
        self._select = self._error = self._link = None
        self._in_summary = False
        self.feed(html)
        self.close()
        self.errors = {k: v.strip().removeprefix("错误：") for k, v in self.errors.items()}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        name = a.get("name")
        if tag == "input" and name and name != "csrf_token":
            self.controls.add(name)
            if a.get("type") in ("radio", "checkbox"):
                self.options[name].append(a.get("value"))
                if "checked" in a:
                    self.values[name].append(a.get("value"))
            else:
                self.values[name].append(a.get("value") or "")
        elif tag == "select":
            self._select = name
            self.controls.add(name)
        elif tag == "option" and self._select:
            self.options[self._select].append(a.get("value"))
            if "selected" in a:
                self.values[self._select].append(a.get("value"))
        elif tag == "p" and "field__error" in classes:
            self._error = (a.get("id") or "").removesuffix("-error")
            self.errors[self._error] = ""
        elif tag == "div" and "error-summary" in classes:
            self._in_summary = True
        elif tag == "a" and self._in_summary:
            self._link = [a.get("href"), ""]
        elif tag == "button" and name == "action":
            self.actions.append(a.get("value"))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "p":
            self._error = None
        elif tag == "div":
            self._in_summary = False
        elif tag == "a" and self._link is not None:
            self.summary.append(tuple(self._link))
            self._link = None

    def handle_data(self, data):
        if self._error is not None:
            self.errors[self._error] += data
        if self._link is not None:
            self._link[1] += data

    def value(self, name) -> str:
        values = self.values.get(name) or [""]
        return values[0]

    def typed(self, name):
        """What the form would send for `name`: a list for checkboxes, else one string."""
        return list(self.values.get(name, [])) if name == "posts" else self.value(name)

    @property
    def has_summary(self) -> bool:
        return 'class="error-summary"' in self.html


def page_of(response) -> Page:
    return Page(response.get_data(as_text=True))


def text_of(response) -> str:
    return response.get_data(as_text=True)


def task_statuses(html: str) -> dict:
    """{section title: status word} from the task list."""
    found = re.findall(r'task-list__name">\d\. (\S+)</span>\s*<strong class="tag tag--\w+">'
                       r'(\S+)</strong>', html)
    return {title: status for title, status in found if title in TITLES.values()}


def status_badge(html: str) -> str | None:
    match = re.search(r'<strong class="badge badge--\w+">(\S+)</strong>', html)
    return match.group(1) if match else None


def lock_notice(html: str) -> str | None:
    match = re.search(r'<div class="notice notice--info" role="alert"><p>(.*?)</p></div>', html)
    return match.group(1) if match else None


def assert_kept(page: Page, typed: dict):
    for name, value in typed.items():
        assert page.typed(name) == value, (name, page.typed(name), value)


# -- the database --------------------------------------------------------------------------------

@contextmanager
def database(app):
    with app.app_context():
        try:
            yield db.session
        finally:
            db.session.remove()


def account_of(session, id_number=ID_NUMBER) -> Account:
    return session.scalar(sa.select(Account).where(Account.id_number == id_number))


def application_of(session, id_number=ID_NUMBER) -> Application:
    return applications.application_for(account_of(session, id_number))


REVIEWER_ID = make_id("530102", "19750505", "777")


def set_status(app, status, needs_changes=(), id_number=ID_NUMBER):
    """What a reviewer's decision would leave: the status, the decision with the sections it
    reopens, and 需修改 on those sections."""
    with database(app) as session:
        application = application_of(session, id_number)
        application.status = status
        for key in needs_changes:
            section = application.section(key)
            if section is None:
                section = Section(key=key)
                application.sections.append(section)
            section.needs_changes = True
        if status == "rejected":
            reviewer = account_of(session, REVIEWER_ID)
            if reviewer is None:
                reviewer, _password = staff.create_staff("reviewer", "530102", REVIEWER_ID,
                                                         "李审核", "13977700077")
            session.add(ReviewDecision(application_id=application.id, reviewer_id=reviewer.id,
                                       approved=False, reasons=["其他"], note="测试",
                                       reopened=list(needs_changes)))
        session.commit()


def snapshot(app, id_number=ID_NUMBER) -> dict:
    """Everything a request could change in the application."""
    with database(app) as session:
        application = application_of(session, id_number)
        account = application.account
        return {
            "status": application.status,
            "jurisdiction": application.jurisdiction_code,
            "account": (account.name, account.id_type, account.id_number, account.phone,
                        account.role),
            "sections": {s.key: (s.data, s.draft, s.completed, s.needs_changes)
                         for s in application.sections},
        }


def section_row(app, key, id_number=ID_NUMBER) -> dict | None:
    row = snapshot(app, id_number)["sections"].get(key)
    return dict(zip(("data", "draft", "completed", "needs_changes"), row)) if row else None


# -- people --------------------------------------------------------------------------------------

@pytest.fixture
def applicant(client, outbox):
    """A registered accountant (居民身份证), logged in by the registration."""
    response = register(client, outbox, ID_NUMBER, PHONE, name=NAME)
    assert response.status_code == 303, text_of(response)
    return client


def save(client, key, data=None, **headers):
    response = client.post(f"/collection/{key}", data=VALID[key] if data is None else data,
                           headers=headers)
    assert response.status_code in (303, 204), (response.status_code, text_of(response)[-3000:])
    return response


def complete_all(client):
    for key in SECTION_KEYS:
        save(client, key)


# -- who may reach the collection ----------------------------------------------------------------

def test_anonymous_is_sent_to_login(client):
    response = client.get("/collection")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login")
    assert "next=%2Fcollection" in response.headers["Location"] or \
        "next=/collection" in response.headers["Location"]
    for key in SECTION_KEYS:
        assert client.get(f"/collection/{key}").status_code == 303
        assert client.post(f"/collection/{key}", data=VALID[key]).status_code == 303
        assert client.post(f"/collection/{key}/draft", data=VALID[key]).status_code == 303


def test_anonymous_htmx_request_gets_a_login_redirect_header(client):
    response = client.post("/collection/basic", data=VALID["basic"], headers=htmx())
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_applicant_lands_on_the_task_list(client, outbox):
    response = register(client, outbox, ID_NUMBER, PHONE, name=NAME)
    assert response.status_code == 303
    home = client.get(response.headers["Location"])
    assert home.status_code == 302 and home.headers["Location"].endswith("/collection")
    client.post("/logout")
    response = login(client, ID_NUMBER)
    assert response.status_code == 303
    landing = client.get(response.headers["Location"], follow_redirects=True)
    assert landing.request.path == "/collection"
    html = text_of(landing)
    assert "信息采集" in html and NAME in html
    assert task_statuses(html) == {title: NOT_STARTED for title in TITLES.values()}


@pytest.mark.parametrize("role", ["reviewer", "admin", "auditor"])
def test_staff_get_404(client, app, role):
    staff_id = make_id("530102", "19800101", "456")
    with database(app) as session:
        account, password = staff.create_staff(role, "530102", staff_id, "王审核", "13900009999")
        account.must_change_password = False
        session.commit()
    assert login(client, staff_id, password).status_code == 303
    assert client.get("/collection").status_code == 404
    for key in SECTION_KEYS:
        assert client.get(f"/collection/{key}").status_code == 404
        assert client.post(f"/collection/{key}", data=VALID[key]).status_code == 404
        assert client.post(f"/collection/{key}/draft", data=VALID[key]).status_code == 404
    with database(app) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Application)) == 0


def test_unknown_section_is_404(applicant):
    assert applicant.get("/collection/documents").status_code == 404
    assert applicant.post("/collection/documents", data={"x": "1"}).status_code == 404
    assert applicant.post("/collection/documents/draft", data={"x": "1"}).status_code == 404


# -- the task list and the status bar ------------------------------------------------------------

def test_task_list_shows_each_section_and_its_status(applicant, app):
    html = text_of(applicant.get("/collection"))
    assert list(task_statuses(html)) == list(TITLES.values())
    for key in SECTION_KEYS:
        assert f'href="/collection/{key}"' in html
    assert status_badge(html) == "未提交"
    assert "填写工作信息后确定" in html

    save(applicant, "basic")
    save(applicant, "education")
    statuses = task_statuses(text_of(applicant.get("/collection")))
    assert statuses == {"基本信息": COMPLETED, "工作信息": NOT_STARTED,
                        "学历信息": COMPLETED, "专业技术资格信息": NOT_STARTED}

    set_status(app, "rejected", needs_changes=["education", "qualification"])
    statuses = task_statuses(text_of(applicant.get("/collection")))
    assert statuses == {"基本信息": COMPLETED, "工作信息": NOT_STARTED,
                        "学历信息": NEEDS_CHANGES, "专业技术资格信息": NEEDS_CHANGES}


def test_a_draft_alone_does_not_complete_a_section(applicant):
    response = applicant.post("/collection/basic/draft", data={"address": "昆明"})
    assert response.status_code == 204
    assert task_statuses(text_of(applicant.get("/collection")))["基本信息"] == NOT_STARTED


@pytest.mark.parametrize("status", list(STATUS_WORDS))
def test_application_status_is_on_every_collection_page(applicant, app, status):
    set_status(app, status)
    for path in ["/collection"] + [f"/collection/{key}" for key in SECTION_KEYS]:
        # (an approved application's /collection leads on to its summary)
        response = applicant.get(path, follow_redirects=True)
        assert response.status_code == 200, path
        html = text_of(response)
        assert status_badge(html) == STATUS_WORDS[status], path
        assert "审核状态" in html


# -- every section: page, fragment, invalid, valid -----------------------------------------------

@pytest.mark.parametrize("key", SECTION_KEYS)
def test_get_full_page(applicant, key):
    response = applicant.get(f"/collection/{key}")
    assert response.status_code == 200
    html = text_of(response)
    assert "<html" in html
    assert f"<h1>{TITLES[key]}</h1>" in html
    assert '<form id="section-form"' in html
    assert 'action="/collection/%s"' % key in html
    assert f'hx-post="/collection/{key}/draft"' in html  # autosave of the draft
    assert "save" in Page(html).actions
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("key", SECTION_KEYS)
def test_get_htmx_fragment_is_the_form_only(applicant, key):
    response = applicant.get(f"/collection/{key}", headers=htmx())
    assert response.status_code == 200
    html = text_of(response).strip()
    assert html.startswith('<form id="section-form"')
    assert html.endswith("</form>")
    assert "<html" not in html and "<body" not in html
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("key", SECTION_KEYS)
def test_invalid_post_is_422_with_everything_kept(applicant, app, key):
    typed, expected = INVALID[key]
    response = applicant.post(f"/collection/{key}", data=typed)
    assert response.status_code == 422
    page = page_of(response)
    assert "<html" in page.html
    assert_kept(page, typed)
    for field_id, message in expected.items():
        assert page.errors.get(field_id) == message, (field_id, page.errors)
    assert set(page.errors) == set(expected)
    assert page.has_summary
    # The draft keeps it across a reload; nothing is saved or completed.
    row = section_row(app, key)
    assert row["data"] is None and row["completed"] is False
    reloaded = Page(text_of(applicant.get(f"/collection/{key}")))
    assert_kept(reloaded, typed)
    assert reloaded.errors == {}
    assert task_statuses(text_of(applicant.get("/collection")))[TITLES[key]] == NOT_STARTED


@pytest.mark.parametrize("key", SECTION_KEYS)
def test_invalid_htmx_post_is_422_fragment(applicant, key):
    typed, expected = INVALID[key]
    response = applicant.post(f"/collection/{key}", data=typed, headers=htmx())
    assert response.status_code == 422
    html = text_of(response).strip()
    assert html.startswith('<form id="section-form"') and "<html" not in html
    page = Page(html)
    assert_kept(page, typed)
    assert set(page.errors) == set(expected)
    assert page.has_summary


@pytest.mark.parametrize("key", SECTION_KEYS)
@pytest.mark.parametrize("kind", [
    "plain",
    # The summary names each problem with its field's label, in words, and links to the field,
    # nested blocks (学历信息) and repeated records (专业技术资格信息) included.
    "summary",
])
def test_error_summary(applicant, key, kind):
    typed, expected = INVALID[key]
    page = page_of(applicant.post(f"/collection/{key}", data=typed))
    assert page.has_summary
    if kind == "plain":
        return
    summary = dict(page.summary)
    assert set(summary) == {f"#{field_id}" for field_id in expected}, page.summary
    for field_id, message in expected.items():
        assert summary[f"#{field_id}"].endswith("：" + message)
        assert f'id="{field_id}"' in page.html


@pytest.mark.parametrize("key", SECTION_KEYS)
def test_valid_post_saves_and_returns_to_the_task_list(applicant, app, key):
    applicant.post(f"/collection/{key}", data=INVALID[key][0])   # a draft first
    response = applicant.post(f"/collection/{key}", data=VALID[key])
    assert response.status_code == 303
    assert response.headers["Location"] == "/collection"
    row = section_row(app, key)
    assert row == {"data": STORED[key], "draft": None, "completed": True,
                   "needs_changes": False}
    statuses = task_statuses(text_of(applicant.get("/collection")))
    assert statuses[TITLES[key]] == COMPLETED
    assert [s for t, s in statuses.items() if t != TITLES[key]] == [NOT_STARTED] * 3
    # The saved answers come back, not the old draft.
    page = page_of(applicant.get(f"/collection/{key}"))
    assert_kept(page, VALID[key])
    assert page.errors == {} and not page.has_summary

    again = applicant.post(f"/collection/{key}", data=VALID[key])
    assert again.status_code == 303
    assert task_statuses(text_of(applicant.get("/collection")))[TITLES[key]] == COMPLETED
    assert section_row(app, key)["data"] == STORED[key]


@pytest.mark.parametrize("key", SECTION_KEYS)
def test_valid_htmx_post_is_204_with_hx_redirect(applicant, app, key):
    response = applicant.post(f"/collection/{key}", data=VALID[key], headers=htmx())
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/collection"
    assert response.get_data() == b""
    assert section_row(app, key)["completed"] is True


@pytest.mark.parametrize("key", SECTION_KEYS)
def test_invalid_post_after_saving_keeps_the_saved_answers(applicant, app, key):
    save(applicant, key)
    typed, _ = INVALID[key]
    assert applicant.post(f"/collection/{key}", data=typed).status_code == 422
    row = section_row(app, key)
    assert row["data"] == STORED[key] and row["completed"] is True
    assert_kept(page_of(applicant.get(f"/collection/{key}")), typed)   # the draft is shown
    save(applicant, key)
    assert section_row(app, key)["draft"] is None


# -- drafts --------------------------------------------------------------------------------------

@pytest.mark.parametrize("key", SECTION_KEYS)
def test_draft_endpoint_stores_what_was_typed(applicant, app, key):
    typed, _ = INVALID[key]
    response = applicant.post(f"/collection/{key}/draft", data=typed, headers=htmx())
    assert response.status_code == 204
    row = section_row(app, key)
    assert row["data"] is None and row["completed"] is False
    assert_kept(page_of(applicant.get(f"/collection/{key}")), typed)


def test_draft_leaves_out_the_csrf_token_and_action_and_is_clipped(applicant, app):
    applicant.post("/collection/basic/draft", data={
        "csrf_token": "t", "action": "save", "address": "x" * 5000,
        "email": ["a", "b"], "name" * 100: "y"})
    draft = section_row(app, "basic")["draft"]
    assert "csrf_token" not in draft and "action" not in draft
    assert draft["address"] == ["x" * applications.MAX_DRAFT_VALUE]
    assert draft["email"] == ["a", "b"]
    assert all(len(name) <= 60 for name in draft)


def test_draft_cannot_set_account_status_or_jurisdiction(applicant, app):
    before = snapshot(app)
    applicant.post("/collection/work/draft", data={
        **VALID["work"], "jurisdiction_code": "530111", "status": "approved", "name": "李四"})
    after = snapshot(app)
    assert after["status"] == before["status"] == "draft"
    assert after["jurisdiction"] is None
    assert after["account"] == before["account"]


# -- locks ---------------------------------------------------------------------------------------

LOCK_MESSAGES = {
    "pending": "信息已提交审核，审核期间不能修改。",
    "approved": "信息已审核通过，不能再修改；如需变更，请使用信息变更功能。",
    "rejected": "审核未通过，但此部分无需修改；请修改标记为“需修改”的部分后重新提交。",
}


@pytest.mark.parametrize("status", ["pending", "approved"])
def test_submitted_application_is_read_only(applicant, app, status):
    complete_all(applicant)
    set_status(app, status)
    before = snapshot(app)
    for key in SECTION_KEYS:
        page = applicant.get(f"/collection/{key}")
        assert page.status_code == 200
        html = text_of(page)
        assert lock_notice(html) == LOCK_MESSAGES[status]
        assert '<fieldset class="plain-fieldset" disabled>' in html
        assert "save" not in Page(html).actions
        assert "/draft" not in html   # no autosave

        changed = {**VALID[key], "address": "别处", "unit_county": "530103",
                   "full_time-has": "no", "has": "no"}
        response = applicant.post(f"/collection/{key}", data=changed)
        assert response.status_code == 409
        assert lock_notice(text_of(response)) == LOCK_MESSAGES[status]
        assert_kept(page_of(response), VALID[key])   # the stored answers, not the new ones

        response = applicant.post(f"/collection/{key}", data=changed, headers=htmx())
        assert response.status_code == 409
        assert "<html" not in text_of(response)
        assert LOCK_MESSAGES[status] in text_of(response)

        for action in ("refresh", "add_record", "remove_record_0"):
            response = applicant.post(f"/collection/{key}", data={**changed, "action": action})
            assert response.status_code == 409

        response = applicant.post(f"/collection/{key}/draft", data=changed)
        assert response.status_code == 409
        assert text_of(response) == LOCK_MESSAGES[status]
    assert snapshot(app) == before
    statuses = task_statuses(text_of(applicant.get("/collection", follow_redirects=True)))
    if status == "pending":
        assert statuses == {title: COMPLETED for title in TITLES.values()}


@pytest.mark.parametrize("status", ["pending", "approved", "rejected"])
def test_locked_even_before_anything_was_filled_in(applicant, app, status):
    set_status(app, status)
    for key in SECTION_KEYS:
        assert applicant.post(f"/collection/{key}", data=VALID[key]).status_code == 409
        assert applicant.post(f"/collection/{key}/draft", data=VALID[key]).status_code == 409
    assert snapshot(app)["sections"] == {}


def test_rejected_application_opens_only_the_sections_that_need_changes(applicant, app):
    complete_all(applicant)
    set_status(app, "rejected", needs_changes=["work", "qualification"])
    html = text_of(applicant.get("/collection"))
    assert status_badge(html) == "审核失败"
    assert task_statuses(html) == {"基本信息": COMPLETED, "工作信息": NEEDS_CHANGES,
                                   "学历信息": COMPLETED, "专业技术资格信息": NEEDS_CHANGES}
    before = snapshot(app)

    for key in ("basic", "education"):
        assert lock_notice(text_of(applicant.get(f"/collection/{key}"))) == \
            LOCK_MESSAGES["rejected"]
        changed = {**VALID[key], "address": "别处", "full_time-has": "no"}
        response = applicant.post(f"/collection/{key}", data=changed)
        assert response.status_code == 409
        assert lock_notice(text_of(response)) == LOCK_MESSAGES["rejected"]
        response = applicant.post(f"/collection/{key}/draft", data=changed)
        assert response.status_code == 409
        assert text_of(response) == LOCK_MESSAGES["rejected"]
    assert snapshot(app) == before

    # The sections marked 需修改 are open: a draft, an invalid save, a valid save.
    page = text_of(applicant.get("/collection/work"))
    assert lock_notice(page) is None and '<fieldset class="plain-fieldset">' in page
    assert applicant.post("/collection/work/draft", data={"employed": "no"}).status_code == 204
    assert applicant.post("/collection/work", data=INVALID["work"][0]).status_code == 422
    moved = {**VALID["work"], "unit_prefecture": "530300", "unit_county": "530302"}
    assert applicant.post("/collection/work", data=moved).status_code == 303
    row = section_row(app, "work")
    assert row["needs_changes"] is False and row["completed"] is True
    assert row["data"]["unit_county"] == ["530302"]
    assert snapshot(app)["jurisdiction"] == "530302"
    assert snapshot(app)["status"] == "rejected"   # resubmitting is a separate step

    html = text_of(applicant.get("/collection"))
    assert task_statuses(html) == {"基本信息": COMPLETED, "工作信息": COMPLETED,
                                   "学历信息": COMPLETED, "专业技术资格信息": NEEDS_CHANGES}
    assert "麒麟区财政局" in html
    assert applicant.post("/collection/qualification",
                          data={"has": "no"}).status_code == 303
    assert section_row(app, "qualification")["data"] == {"has": ["no"]}
