"""Shared helpers for the browser suites: finding controls by their visible labels, axe checks
with a screenshot, signing in, and building accounts and applications quickly on the server side
(domain functions, or the Flask test client with a real CSRF token) so that each browser test
spends its time on the pages it is about."""
import io
import re
from dataclasses import dataclass

import sqlalchemy as sa
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from domain import accounts
from domain.id_numbers import RESIDENT_ID
from extensions import db
from models import Account, Application, Material
from sms import Purpose, issue_code
from tests import images_factory
from tests.helpers import CAPTCHA, PASSWORD, last_code

BLOCKING_IMPACTS = {"serious", "critical"}
CREDIT_CODE = "91110000600037341L"
BAD_CREDIT_CODE = "91110000600037341A"      # the check character is wrong
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "is_mobile": False, "has_touch": False,
           "device_scale_factor": 1}
_axe = Axe()


# --- finding things on a page ------------------------------------------------------------------

def field(scope, label: str):
    """The control labelled exactly `label`; required fields' labels end in " *"."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}(\s*\*)?$"))


def button(scope, name: str):
    return scope.get_by_role("button", name=name, exact=True)


def group(scope, legend: str):
    """A fieldset (radio buttons, checkboxes) by its legend; required ones end in " *"."""
    return scope.get_by_role("group", name=re.compile(rf"^{re.escape(legend)}(\s*\*)?$"))


def url_ending(path: str):
    return re.compile(re.escape(path) + r"(#.*)?$")


def posted_to(path: str):
    """A predicate for page.expect_request/expect_response: a POST to `path`."""
    def matches(item):
        request = getattr(item, "request", item)
        return request.method == "POST" and request.url.split("?")[0].endswith(path)
    return matches


def task_status(page: Page, title: str):
    """The status tag of a row in the 信息采集 task list."""
    return page.locator(".task-list__link", has_text=title).locator(".tag")


def status_bar(page: Page):
    return page.get_by_role("region", name="审核状态")


# --- accessibility and screenshots -------------------------------------------------------------

# Axe waits on timers; in a page whose own scripts are off (java_script_enabled=False) timers
# never fire, though Playwright's evaluate still runs. Timers as microtasks let it finish there.
_TIMERS_AS_MICROTASKS = """() => {
  window.setTimeout = (fn, _ms, ...args) => {
    Promise.resolve().then(() => fn(...args));
    return 0;
  };
  window.clearTimeout = () => {};
}"""


def scripts_ran(page: Page) -> bool:
    """static/js/app.js (on every page) marks <html class="js"> when the page's scripts run."""
    return page.evaluate("document.documentElement.classList.contains('js')")


def assert_accessible(page: Page, where: str):
    """No axe violation of impact serious or critical on the page as it is now; without
    JavaScript the <noscript> buttons are part of what is checked."""
    if not scripts_ran(page):
        page.evaluate(_TIMERS_AS_MICROTASKS)
    violations = _axe.run(page).response["violations"]
    blocking = [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]
    assert not blocking, f"axe on {where}:\n" + "\n".join(
        f"- [{v['impact']}] {v['id']}: {v['help']} -> "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"])
        for v in blocking)


def check_page(page: Page, name: str, snapshot):
    """Axe-clean, and a full-page screenshot in test-results/<name>.png."""
    assert_accessible(page, name)
    snapshot(page, name)


def loaded(page: Page):
    """Wait for the load event after a click that navigated: the deferred scripts (htmx,
    upload.js) have run by then, so a choice made next is not lost to a page still starting
    (a click only waits for the new page to commit)."""
    page.wait_for_load_state("load")


def mark_window(page: Page):
    """Set a marker that only survives while no full page load happens."""
    page.evaluate("window.__marker = 1")


def assert_not_reloaded(page: Page):
    assert page.evaluate("window.__marker") == 1, "the page was reloaded, not swapped"


# --- phone sizes and tap targets ---------------------------------------------------------------

WIDTHS = (320, 360, 414)
DEFAULT_FONT_PX = 16
TEXT_SIZES = (100, 200)   # per cent of the default
MIN_TARGET = 44           # CSS px, WCAG 2.5.5 and the MIIT 适老化 rules
VIEWPORT_HEIGHT = 740

# Tap targets as the browser lays them out. A radio button's or checkbox's label counts (it is
# what a thumb presses); other labels only move the focus and are not targets. Elements not
# rendered, or pushed off the page (the skip link until it has the focus), are left out; while a
# modal dialog is open, only its own targets can be tapped.
MEASURE = """(minimum) => {
  const html = document.documentElement;
  const scope = document.querySelector("dialog:modal") || document;
  const targets = [];
  for (const el of scope.querySelectorAll(
      "a[href], button, input:not([type=hidden]), select, textarea, summary, label[for]")) {
    if (el.matches("label")) {
      const control = document.getElementById(el.htmlFor);
      if (!control || !["radio", "checkbox"].includes(control.type)) continue;
    }
    if (!el.checkVisibility({visibilityProperty: true})) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || r.right + window.scrollX <= 0) continue;
    const text = (el.getAttribute("aria-label") || el.innerText || el.value || el.name
                  || el.id || "").trim().replace(/\\s+/g, " ").slice(0, 24);
    const what = el.tagName.toLowerCase() + (el.type && el.tagName !== "BUTTON" ? "[" + el.type + "]" : "");
    targets.push({el, r, name: what + " “" + text + "”"});
  }
  const size = (r) => Math.round(r.width * 10) / 10 + "×" + Math.round(r.height * 10) / 10;
  const small = targets
    .filter((t) => t.r.width < minimum - 0.05 || t.r.height < minimum - 0.05)
    .map((t) => t.name + " " + size(t.r));
  const overlaps = [];
  for (let i = 0; i < targets.length; i++) {
    for (let j = i + 1; j < targets.length; j++) {
      const a = targets[i], b = targets[j];
      if (a.el.contains(b.el) || b.el.contains(a.el)) continue;
      const w = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
      const h = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
      if (w > 0.5 && h > 0.5) overlaps.push(a.name + " / " + b.name);
    }
  }
  return {scrollWidth: html.scrollWidth, clientWidth: html.clientWidth,
          rootFont: getComputedStyle(html).fontSize, count: targets.length, small, overlaps};
}"""


def set_text_size(cdp, percent: int):
    """The browser's default text size (a person's setting), through a CDP session of the page."""
    size = DEFAULT_FONT_PX * percent // 100
    cdp.send("Page.setFontSizes", {"fontSizes": {"standard": size, "fixed": size * 13 // 16}})


def tap_target_problems(page: Page, cdp, name: str, widths=WIDTHS,
                        text_sizes=TEXT_SIZES) -> list[str]:
    """What is wrong with the page as it is now, at each width and text size: sideways
    scrolling, tap targets under 44×44 CSS px, tap targets on top of each other."""
    found = []
    for percent in text_sizes:
        set_text_size(cdp, percent)
        for width in widths:
            page.set_viewport_size({"width": width, "height": VIEWPORT_HEIGHT})
            page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done()))")
            result = page.evaluate(MEASURE, MIN_TARGET)
            where = f"{name} at {width}px, text {percent}%"
            expected_root = f"{DEFAULT_FONT_PX * percent / 100:g}px"
            if result["rootFont"] != expected_root:
                found.append(f"{where}: root text {result['rootFont']}, not {expected_root}")
            if result["count"] == 0:
                found.append(f"{where}: no tap target found")
            if result["scrollWidth"] > result["clientWidth"]:
                found.append(f"{where}: {result['scrollWidth']}px wide, scrolls sideways")
            found += [f"{where}: under 44×44: {item}" for item in result["small"]]
            found += [f"{where}: overlapping: {pair}" for pair in result["overlaps"]]
    return found


# --- people ------------------------------------------------------------------------------------

@dataclass
class Person:
    id_number: str
    phone: str
    name: str
    password: str = PASSWORD
    outbox: str | None = None  # staff: where their login codes arrive (the second factor)


def register_applicant(app, id_number: str, phone: str, name: str = "王芳") -> Person:
    """An applicant account made by domain.accounts.register with a real SMS code."""
    with app.app_context():
        code, _row = issue_code(phone, Purpose.REGISTER)
        accounts.register(accounts.Registration(RESIDENT_ID, id_number, name, phone, code,
                                                PASSWORD), "127.0.0.1")
        db.session.remove()
    return Person(id_number, phone, name)


def create_reviewer(app, region: str, id_number: str, phone: str, name: str = "李审核") -> Person:
    """A reviewer through domain.staff.create_staff, its one-time password kept (no forced
    change at the first login)."""
    from domain.staff import create_staff
    with app.app_context():
        account, password = create_staff("reviewer", region, id_number, name, phone)
        account.must_change_password = False
        db.session.commit()
        db.session.remove()
    return Person(id_number, phone, name, password, app.config["SMS_OUTBOX"])


def log_in(page: Page, person: Person, check=None):
    """Sign in through /login; `check` (an axe check, a screenshot) runs on the login page."""
    page.goto("/login")
    if check:
        check()
    field(page, "证件号码").fill(person.id_number)
    field(page, "密码").fill(person.password)
    field(page, "图形验证码").fill(CAPTCHA)
    button(page, "登录").click()
    if person.outbox:  # staff: the code sent to their phone, on its own page
        expect(page).to_have_url(url_ending("/login/verify"))
        field(page, "短信验证码").fill(last_code(person.outbox, person.phone))
        button(page, "确认登录").click()
    expect(button(page, "退出")).to_be_visible()


def imported_person(app, id_number: str, name: str = "李四") -> Person:
    """An existing accountant from the archive import (domain.archive_import), who must bind a
    phone and set a password before anything else; the initial password is the ID's last 6."""
    from domain.archive_import import import_rows
    from domain.initial_password import derive as initial_password
    with app.app_context():
        report = import_rows([{"姓名": name, "证件号码": id_number, "资格级别": "中级",
                               "证书编号": "ZJ0001", "取得日期": "2010-05-01"}])
        assert report.accepted == 1, report
        db.session.remove()
    return Person(id_number, "", name, initial_password(id_number))


def sign_in_context(context, app, person: Person, base_url: str):
    """Give a browser context the session cookie of `person`, logged in once through /login
    with the Flask test client (CSRF token included): its pages open signed in, no login page
    in the browser."""
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = client.post("/login", data={
        "id_number": person.id_number, "password": person.password, "captcha": CAPTCHA,
        "csrf_token": token})
    assert response.status_code == 303, response.get_data(as_text=True)[-1500:]
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base_url}])


def in_app(app, fn):
    """Run fn() inside an application context and clean the session up."""
    with app.app_context():
        try:
            return fn()
        finally:
            db.session.remove()


def application_status(app, person: Person) -> str:
    def read():
        account = db.session.scalar(sa.select(Account).where(
            Account.id_number == person.id_number))
        return db.session.scalar(sa.select(Application.status).where(
            Application.account_id == account.id))
    return in_app(app, read)


def stored_kinds(app, person: Person) -> set[str]:
    def read():
        return set(db.session.scalars(
            sa.select(Material.kind).join(Account, Account.id == Material.owner_id)
            .where(Account.id_number == person.id_number)))
    return in_app(app, read)


# --- an application built over HTTP (the Flask test client, CSRF on) ---------------------------

SECTION_ANSWERS = {
    "basic": {"ethnicity": "汉族", "address": "昆明市五华区某某路1号"},
    "work": {"employed": "yes", "unit_name": "云南某某会计服务有限公司",
             "unit_credit_code": CREDIT_CODE, "unit_type": "企业", "unit_prefecture": "530100",
             "unit_county": "530102", "join_date": "2012-07-01",
             "accounting_start_date": "2015-07-01", "posts": ["出纳", "总账"]},
    "education": {"full_time-has": "no", "part_time-has": "no"},
    "qualification": {"has": "no"},
}


class HttpApplicant:
    """The applicant's side through app.test_client(): logs in with the CSRF token of the login
    page and sends every form with it, as a browser would."""

    def __init__(self, app, person: Person):
        self.client = app.test_client()
        self.token = self._token("/login")
        response = self.client.post("/login", data={
            "id_number": person.id_number, "password": person.password, "captcha": CAPTCHA,
            "csrf_token": self.token})
        assert response.status_code == 303, response.get_data(as_text=True)[-1500:]
        self.token = self._token("/collection/basic")

    def _token(self, path):
        html = self.client.get(path).get_data(as_text=True)
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    def post(self, path, data):
        response = self.client.post(path, data={**data, "csrf_token": self.token})
        assert response.status_code == 303, (path, response.status_code,
                                             response.get_data(as_text=True)[-1500:])
        return response

    def fill_sections(self, county="530102"):
        for key, data in SECTION_ANSWERS.items():
            if key == "work":
                data = {**data, "unit_prefecture": county[:4] + "00", "unit_county": county}
            self.post(f"/collection/{key}", data)

    def submit(self):
        self.token = self._token("/collection/summary")
        self.post("/collection/submit", {})

    def upload(self, kind: str, data: bytes):
        return self.post(f"/collection/materials/{kind}",
                         {"photo": (io.BytesIO(data), f"{kind}.jpg")})

    def upload_materials(self):
        """The four materials an employed resident with no degree or certificate needs."""
        self.upload("id_photo", id_photo_jpeg())
        self.post("/collection/materials/id_photo/preview", {})
        for kind in ("id_front", "id_back", "work_proof"):
            self.upload(kind, images_factory.small_jpeg())


def id_photo_jpeg() -> bytes:
    """A small portrait on a white wall, good for the 1-inch photo tool."""
    return images_factory.portrait(900, 1200, noise=0.0)
