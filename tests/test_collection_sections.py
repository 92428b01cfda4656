"""The collection (信息采集) over HTTP: who may reach it, the task list and its status words, the
application status on every page, and the behaviour every section shares — full page and HTMX
fragment, 422 with everything typed kept and a draft stored, 303 (or HX-Redirect) on success, and
the server-side locks of 审核中 / 审核成功 / 审核失败. Page parsing, valid answers and database
shortcuts: tests/collection_pages.py; the `applicant` fixture: tests/conftest.py."""

import pytest
import sqlalchemy as sa

from domain import applications, staff
from domain.sections import COMPLETED, NEEDS_CHANGES, NOT_STARTED
from models import Application
from tests.collection_pages import (
    ID_NUMBER,
    INVALID,
    NAME,
    PHONE,
    SECTION_KEYS,
    STATUS_WORDS,
    STORED,
    TITLES,
    VALID,
    Page,
    assert_kept,
    complete_all,
    database,
    lock_notice,
    page_of,
    save,
    section_row,
    set_status,
    snapshot,
    status_badge,
    task_statuses,
    text_of,
)
from tests.helpers import htmx, login, make_id, register


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
    assert f'action="/collection/{key}"' in html
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
    assert draft["email"] == ["a"]  # a one-answer field keeps one answer
    assert all(len(name) <= 60 for name in draft)
    assert "name" * 100 not in draft  # not a field of the section


def test_a_draft_keeps_only_the_sections_own_fields(applicant, app):
    """A draft post of 200 made-up names × 20 values × 500 characters stores none of them."""
    junk = {f"junk{index}": ["z" * 500] * 20 for index in range(200)}
    response = applicant.post("/collection/work/draft", data={**junk, "unit_name": "某公司"})
    assert response.status_code == 204
    draft = section_row(app, "work")["draft"]
    assert not any(name.startswith("junk") for name in draft)
    assert draft["unit_name"] == ["某公司"]
    assert set(draft) <= set(VALID["work"]) | {"person_category", "collection_prefecture",
                                               "collection_county", "school_name"}


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
