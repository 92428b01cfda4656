"""Reading the collection's pages and database in tests: valid and invalid answers of each
section, a parser of what a browser would show and submit, and database shortcuts. Shared by
tests/test_collection_sections.py and tests/test_collection_rules.py."""
import re
from collections import defaultdict
from contextlib import contextmanager
from html.parser import HTMLParser

import sqlalchemy as sa

from domain import applications, staff
from extensions import db
from models import Account, Application, ReviewDecision, Section
from tests.helpers import make_id

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
    return dict(zip(("data", "draft", "completed", "needs_changes"), row, strict=True)) if row else None


# -- people --------------------------------------------------------------------------------------

def save(client, key, data=None, **headers):
    response = client.post(f"/collection/{key}", data=VALID[key] if data is None else data,
                           headers=headers)
    assert response.status_code in (303, 204), (response.status_code, text_of(response)[-3000:])
    return response


def complete_all(client):
    for key in SECTION_KEYS:
        save(client, key)


# -- who may reach the collection ----------------------------------------------------------------
