"""Account appeals (账号申诉): filing without an account, the same answer whether or not the ID
number is registered, limits, who decides, what approval and rejection do."""
import io
import os
import re
import uuid

import pytest
import sqlalchemy as sa

from domain import appeals
from domain.id_numbers import mask
from extensions import db
from models import (
    Account,
    Appeal,
    AppealPhoto,
    LoginSession,
    Role,
    StoredFile,
    WeChatBinding,
)
from tests.factories import (
    audit_rows,
    document_jpeg,
    log_in,
    make_appeal,
    make_application,
    register_applicant,
    staff_client,
    unique_id,
    unique_phone,
    with_ids,
)
from tests.helpers import CAPTCHA, body, htmx, last_code, login, outbox_messages, register

STATEMENT = "本人从未在本系统注册，发现证件号码已被他人注册。"


def appeal_data(id_number, phone, name="李真", sms_code="", **overrides) -> dict:
    data = {"id_type": "居民身份证", "id_number": id_number, "name": name, "phone": phone,
            "captcha": "", "sms_code": sms_code, "statement": STATEMENT, "action": "file"}
    data.update(overrides)
    return data


def photos(**replaced) -> dict:
    files = {kind: (io.BytesIO(replaced.get(kind, document_jpeg())), f"{kind}.jpg")
             for kind in ("id_front", "id_back", "holding")}
    return {k: v for k, v in files.items() if replaced.get(k, b"x") is not None}


def send_appeal_code(client, slug, phone):
    response = client.post(f"/appeal/{slug}/send-code", data={"phone": phone, "captcha": CAPTCHA})
    assert response.status_code == 200, body(response)[-2000:]
    return response


def file_appeal(client, outbox, slug, id_number, phone, name="李真", files=None, typed=None):
    """Press 获取验证码, read the code, and file the appeal with its three photos; `typed`
    overrides what is typed in the form."""
    send_appeal_code(client, slug, phone)
    data = appeal_data(id_number, phone, name, sms_code=last_code(outbox, phone)) | (typed or {})
    data |= files if files is not None else photos()
    return client.post(f"/appeal/{slug}", data=data, content_type="multipart/form-data")


def appeal_row(app, **where) -> Appeal | None:
    with app.app_context():
        found = db.session.scalar(sa.select(Appeal).filter_by(**where).order_by(Appeal.id.desc()))
        if found is not None:
            db.session.expunge(found)
        db.session.remove()
    return found


def account_row(app, account_id) -> dict:
    with app.app_context():
        account = db.session.get(Account, account_id)
        row = {"phone": account.phone, "name": account.name,
               "must_change_password": account.must_change_password,
               "password_hash": account.password_hash}
        db.session.remove()
    return row


def messages_to(outbox, phone) -> list[str]:
    return [m["body"] for m in outbox_messages(outbox) if m["to"] == phone]


# -- filing --------------------------------------------------------------------------------------

def test_the_register_notice_and_forgot_password_lead_to_the_appeals(app, client, outbox):
    taken = register_applicant(app.test_client(), outbox)
    notice = register(client, outbox, taken.id_number, unique_phone())
    assert notice.status_code == 409
    assert "/appeal/taken-id" in body(notice) and "/appeal/lost-phone" in body(notice)
    assert "/appeal/lost-phone" in body(client.get("/forgot-password"))
    for slug in ("taken-id", "lost-phone"):
        page = body(client.get(f"/appeal/{slug}"))
        assert 'name="id_front" accept="image/jpeg,image/png" capture="environment"' in page
        assert 'name="holding" accept="image/jpeg,image/png" capture="user"' in page  # a selfie
        assert 'enctype="multipart/form-data"' in page
        assert "手持身份证照片" in page and "国徽面" in page and "人像面" in page
    assert client.get("/appeal/other").status_code == 404


def test_a_taken_id_appeal_is_filed_and_logged(app, client, outbox):
    holder = register_applicant(app.test_client(), outbox)
    phone = unique_phone()
    response = file_appeal(client, outbox, "taken-id", holder.id_number, phone)
    assert response.status_code == 303, body(response)[-2000:]
    assert response.headers["Location"].endswith("/appeal/filed")
    assert "申诉已提交，结果将以短信通知" in body(client.get("/appeal/filed"))
    row = appeal_row(app, id_number=holder.id_number)
    assert (row.kind, row.status, row.phone, row.name) == ("taken_id", "open", phone, "李真")
    assert row.account_id == holder.account_id or row.account_id is not None
    with app.app_context():
        kinds = set(db.session.scalars(sa.select(AppealPhoto.kind)
                                       .where(AppealPhoto.appeal_id == row.id)))
        photo = db.session.scalar(sa.select(AppealPhoto).where(AppealPhoto.appeal_id == row.id))
        assert photo.content[:3] == b"\xff\xd8\xff" and photo.size_bytes <= 200 * 1024
        db.session.remove()
    assert kinds == {"id_front", "id_back", "holding"}
    filed = audit_rows(app, "appeal.file")
    assert [e.subject for e in filed] == [mask(holder.id_number)]
    assert any("申诉" in text and "已提交" in text for text in messages_to(outbox, phone))


def test_a_lost_phone_appeal_is_filed(app, client, outbox):
    person = register_applicant(app.test_client(), outbox)
    phone = unique_phone()
    response = file_appeal(client, outbox, "lost-phone", person.id_number, phone,
                           name=person.name)
    assert response.status_code == 303
    assert appeal_row(app, id_number=person.id_number).kind == "lost_phone"


def filed_page(response) -> str:
    """The page without its per-session CSRF tokens."""
    page = re.sub(r'name="csrf_token" value="[^"]*"', "", body(response))
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", page)


def test_the_same_answer_whether_or_not_the_id_number_is_registered(app, outbox):
    registered = register_applicant(app.test_client(), outbox)
    unregistered = unique_id()
    answers = []
    for id_number in (registered.id_number, unregistered):
        client = app.test_client()
        response = file_appeal(client, outbox, "taken-id", id_number, unique_phone())
        final = client.get(response.headers["Location"])
        answers.append((response.status_code, response.headers["Location"], final.status_code,
                        filed_page(final)))
    assert answers[0] == answers[1]
    assert appeal_row(app, id_number=unregistered).account_id is None
    assert appeal_row(app, id_number=registered.id_number).account_id is not None


@pytest.mark.parametrize("field, value, words", [
    ("id_number", "530102199001011230", "校验位"),
    ("name", "L1", "姓名"),
    ("phone", "12345", "手机号码"),
    ("statement", "", "申诉理由"),
    ("statement", "很" * 501, "最多500字"),
])
def test_a_wrong_field_says_what_to_fix_and_keeps_what_was_typed(app, client, outbox, field,
                                                                 value, words):
    phone = unique_phone()
    id_number = unique_id()
    response = file_appeal(client, outbox, "taken-id", id_number, phone, typed={field: value})
    page = body(response)
    assert response.status_code == 422
    assert words in page
    assert page.count("已保存您选择的这张照片，无需重新选择") == 3  # the photos are kept
    for kept in (id_number, phone, "李真", STATEMENT):
        if kept != {"id_number": id_number, "phone": phone, "name": "李真",
                    "statement": STATEMENT}[field]:
            assert kept in page
    assert appeal_row(app, id_number=id_number) is None


def test_full_width_digits_spaces_and_lower_case_x_count_as_typed_right(app, client, outbox):
    id_number = unique_id()
    while not id_number.endswith("X"):
        id_number = unique_id()
    typed = " ".join(id_number[:-1].translate(str.maketrans("0123456789", "０１２３４５６７８９"))) + "x"
    response = file_appeal(client, outbox, "taken-id", id_number, unique_phone(),
                           typed={"id_number": typed})
    assert response.status_code == 303, body(response)[-1500:]
    assert appeal_row(app, id_number=id_number) is not None


def test_a_missing_or_unusable_photo_is_named(app, client, outbox):
    files = photos(id_back=b"GIF89a not a photo", holding=None)
    response = file_appeal(client, outbox, "taken-id", unique_id(), unique_phone(), files=files)
    page = body(response)
    assert response.status_code == 422
    assert "不支持GIF格式" in page and "请拍摄或选择手持身份证照片" in page


def test_a_wrong_code_is_422_and_the_photos_wait_for_the_next_try(app, client, outbox):
    phone, id_number = unique_phone(), unique_id()
    send_appeal_code(client, "taken-id", phone)
    code = last_code(outbox, phone)
    wrong = "000000" if code != "000000" else "111111"
    response = client.post("/appeal/taken-id", data=appeal_data(id_number, phone,
                                                                sms_code=wrong) | photos(),
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "验证码" in body(response)
    assert appeal_row(app, id_number=id_number) is None
    # The photos came back as kept ones: shown to this browser only, and not chosen again.
    assert body(response).count("已保存您选择的这张照片") == 3
    kept = client.get("/appeal/photos/holding.jpg")
    assert kept.status_code == 200 and kept.data[:3] == b"\xff\xd8\xff"
    assert app.test_client().get("/appeal/photos/holding.jpg").status_code == 404
    replaced = photos(id_front=None, id_back=None)  # a new 手持 photo, the other two kept
    response = client.post("/appeal/taken-id", content_type="multipart/form-data",
                           data=appeal_data(id_number, phone, sms_code=code) | replaced)
    assert response.status_code == 303, body(response)[-1500:]
    row = appeal_row(app, id_number=id_number)
    with app.app_context():
        kinds = set(db.session.scalars(sa.select(AppealPhoto.kind)
                                       .where(AppealPhoto.appeal_id == row.id)))
        drafts = db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile))
        db.session.remove()
    assert kinds == {"id_front", "id_back", "holding"} and drafts == 0
    assert client.get("/appeal/photos/holding.jpg").status_code == 404


def test_an_htmx_filing_with_an_error_gets_the_form_alone(client, outbox):
    send_appeal_code(client, "lost-phone", phone := unique_phone())
    response = client.post("/appeal/lost-phone", headers=htmx(),
                           data=appeal_data(unique_id(), phone, name="") | photos(),
                           content_type="multipart/form-data")
    assert response.status_code == 422
    page = body(response)
    assert page.lstrip().startswith("<form") and "<html" not in page and "请填写姓名" in page


def test_one_open_appeal_per_id_number_and_kind(app, outbox):
    id_number = unique_id()
    first = file_appeal(app.test_client(), outbox, "taken-id", id_number, unique_phone())
    assert first.status_code == 303
    again = file_appeal(app.test_client(), outbox, "taken-id", id_number, unique_phone())
    assert again.status_code == 422 and "正在处理" in body(again)
    other_kind = file_appeal(app.test_client(), outbox, "lost-phone", id_number, unique_phone())
    assert other_kind.status_code == 303


def test_filings_are_limited_per_phone_and_per_address(app, outbox):
    app.config["APPEAL_PHONE_LIMITS"], app.config["APPEAL_IP_LIMITS"] = "1 per day", "2 per day"
    try:
        phone = unique_phone()
        client = app.test_client()
        assert file_appeal(client, outbox, "taken-id", unique_id(), phone).status_code == 303
        # The limit is checked before the code: a second filing needs no second SMS to be told.
        data = appeal_data(id_number := unique_id(), phone, sms_code="123456") | photos()
        limited = client.post("/appeal/taken-id", data=data, content_type="multipart/form-data")
        page = body(limited)
        assert limited.status_code == 429
        assert "该手机号提交申诉次数已达上限，请" in page and "小时后再试" in page
        assert id_number in page and STATEMENT in page  # what was typed is kept
        other = file_appeal(client, outbox, "lost-phone", unique_id(), unique_phone())
        assert other.status_code == 303
        data = appeal_data(unique_id(), unique_phone(), sms_code="123456") | photos()
        third = client.post("/appeal/lost-phone", data=data, content_type="multipart/form-data")
        assert third.status_code == 429 and "当前网络提交申诉次数已达上限" in body(third)
    finally:
        app.config["APPEAL_PHONE_LIMITS"] = "2 per day;5 per 30 days"
        app.config["APPEAL_IP_LIMITS"] = "10 per day"


# -- who decides ---------------------------------------------------------------------------------

@pytest.fixture
def held(app, outbox):
    """An account whose record lies in 五华区 (530102), and a taken-ID appeal against it."""
    person = make_application(app, county="530102")
    phone = unique_phone()
    response = file_appeal(app.test_client(), outbox, "taken-id", person.id_number, phone)
    assert response.status_code == 303
    appeal = appeal_row(app, id_number=person.id_number)
    assert appeal.jurisdiction_code == "530102"
    return person, appeal


@pytest.mark.parametrize("role, region", [(Role.REVIEWER, "530102"), (Role.REVIEWER, "530100"),
                                          (Role.REVIEWER, "530000"), (Role.ADMIN, "530000")])
def test_the_county_its_prefecture_the_province_and_administrators_decide(app, held, role,
                                                                          region):
    _person, appeal = held
    client, _member = staff_client(app, role, region)
    assert f"/appeals/{appeal.id}" in body(client.get("/appeals"))
    page = body(client.get(f"/appeals/{appeal.id}"))
    assert response_ok(client.get(f"/appeals/{appeal.id}"))
    assert mask(appeal.id_number) in page and appeal.id_number not in page
    assert "账号申诉" in body(client.get("/appeals"))


def response_ok(response) -> bool:
    return response.status_code == 200


@pytest.mark.parametrize("role, region", [(Role.REVIEWER, "530302"), (Role.REVIEWER, "530300"),
                                          (Role.AUDITOR, "530000")])
def test_anyone_else_gets_404(app, held, role, region):
    _person, appeal = held
    client, _member = staff_client(app, role, region)
    listing = client.get("/appeals")
    if role == Role.AUDITOR:
        assert listing.status_code == 404
    else:
        assert listing.status_code == 200 and f"/appeals/{appeal.id}" not in body(listing)
    for url in (f"/appeals/{appeal.id}", f"/appeals/{appeal.id}/photos/holding-full.jpg"):
        assert client.get(url).status_code == 404
    assert client.post(f"/appeals/{appeal.id}/decide",
                       data={"outcome": "approved"}).status_code == 404
    assert client.post(f"/appeals/{appeal.id}/reveal").status_code == 404


def test_an_account_without_a_county_is_for_administrators_only(app, outbox):
    person = register_applicant(app.test_client(), outbox)
    file_appeal(app.test_client(), outbox, "taken-id", person.id_number, unique_phone())
    appeal = appeal_row(app, id_number=person.id_number)
    assert appeal.jurisdiction_code is None
    province, _ = staff_client(app, Role.REVIEWER, "530000")
    assert province.get(f"/appeals/{appeal.id}").status_code == 404
    admin, _ = staff_client(app, Role.ADMIN, "530000")
    assert admin.get(f"/appeals/{appeal.id}").status_code == 200


def test_a_draft_s_county_does_not_count(app, outbox):
    from models import ApplicationStatus
    drafted = make_application(app, county="530102", status=ApplicationStatus.DRAFT)
    file_appeal(app.test_client(), outbox, "lost-phone", drafted.id_number, unique_phone(),
                name=drafted.name)
    appeal = appeal_row(app, id_number=drafted.id_number)
    assert appeal.account_id == drafted.account_id and appeal.jurisdiction_code is None
    county, _ = staff_client(app, Role.REVIEWER, "530102")
    assert county.get(f"/appeals/{appeal.id}").status_code == 404


def test_applicants_reach_no_staff_page(app, held, outbox):
    _person, appeal = held
    client = app.test_client()
    register_applicant(client, outbox)
    assert client.get("/appeals").status_code == 404
    assert client.get(f"/appeals/{appeal.id}").status_code == 404


def test_revealing_and_viewing_photos_are_logged(app, held):
    person, appeal = held
    client, _member = staff_client(app, Role.REVIEWER, "530102")
    page = body(client.get(f"/appeals/{appeal.id}"))
    assert "/account-photos/" in page  # the account's own ID photo beside the appeal's
    revealed = client.post(f"/appeals/{appeal.id}/reveal", headers=htmx())
    assert appeal.id_number in body(revealed) and appeal.phone in body(revealed)
    assert "<html" not in body(revealed)
    assert [e.subject for e in audit_rows(app, "appeal.reveal")] == [mask(appeal.id_number)]
    image = client.get(f"/appeals/{appeal.id}/photos/holding-full.jpg")
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/jpeg"
    account_photo = re.search(r'/appeals/\d+/account-photos/\d+-full\.jpg', page).group(0)
    assert client.get(account_photo).status_code == 200
    assert len(audit_rows(app, "appeal.image")) >= 2


def test_the_account_holder_s_copy_lists_what_an_appeal_showed_of_them(app, held):
    """个人信息副本 lists the appeal's reveal and views of the account's own photos, not of the
    appellant's pictures (those are not the holder's data)."""
    from domain import personal_copy
    from models import Application
    person, appeal = held
    client, _member = staff_client(app, Role.REVIEWER, "530102")
    page = body(client.get(f"/appeals/{appeal.id}"))
    client.post(f"/appeals/{appeal.id}/reveal", headers=htmx())
    client.get(f"/appeals/{appeal.id}/photos/holding-full.jpg")
    client.get(re.search(r'/appeals/\d+/account-photos/\d+-thumb\.jpg', page).group(0))
    with app.app_context():
        account = db.session.get(Account, person.account_id)
        application = db.session.get(Application, person.application_id)
        views = personal_copy.views_of(account, application)
        db.session.remove()
    assert [(v["what"], v.get("variant")) for v in views] == [
        ("处理账号申诉时查看了完整证件号码和手机号码", None),
        ("处理账号申诉时查看了账号的证件照片", "缩略图")]
    assert {v["by"]["bureau"] for v in views} == {"五华区财政局"}


# -- deciding ------------------------------------------------------------------------------------

def test_approving_a_taken_id_moves_the_account_to_the_appellant(app, outbox):
    old_client = app.test_client()
    holder = register_applicant(old_client, outbox)
    with app.app_context():
        holder_id = db.session.scalar(sa.select(Account.id).where(
            Account.id_number == holder.id_number))
        db.session.add(WeChatBinding(account_id=holder_id, appid="wxtest", openid_digest="d" * 64,
                                     openid_sealed="sealed"))
        db.session.commit()
        db.session.remove()
    assert old_client.get("/collection").status_code == 200
    new_phone = unique_phone()
    file_appeal(app.test_client(), outbox, "taken-id", holder.id_number, new_phone, name="李真")
    appeal = appeal_row(app, id_number=holder.id_number)
    admin, _ = staff_client(app, Role.ADMIN, "530000")
    response = admin.post(f"/appeals/{appeal.id}/decide", data={"outcome": "approved"})
    assert response.status_code == 303, body(response)[-1500:]
    account = account_row(app, holder_id)
    assert (account["phone"], account["name"], account["must_change_password"]) == \
        (new_phone, "李真", True)
    # The old holder's browser is logged out at its next request.
    assert old_client.get("/collection").status_code in (302, 303)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginSession).where(
            LoginSession.account_id == holder_id, LoginSession.ended_at.is_(None))) == 0
        assert db.session.scalar(sa.select(WeChatBinding).where(
            WeChatBinding.account_id == holder_id)) is None
        db.session.remove()
    told_old = messages_to(outbox, holder.phone)
    assert any("已转由证件本人使用" in text for text in told_old)
    told_new = messages_to(outbox, new_phone)
    password = re.search(r"临时密码：(\S+) ", told_new[-1]).group(1)
    # The old password no longer works; the new one does, and asks for a new password first.
    assert "证件号码或密码不正确" in body(login(app.test_client(), holder.id_number,
                                                   holder.password))
    new_client = app.test_client()
    response = login(new_client, holder.id_number, password)
    assert response.status_code == 303
    assert new_client.get("/collection").headers["Location"].endswith("/account/password")
    approved = audit_rows(app, "appeal.approve")
    assert len(approved) == 1 and mask(holder.id_number) == approved[0].subject
    assert audit_rows(app, "wechat.unbind")
    assert appeal_row(app, id=appeal.id).status == "approved"


def test_approving_a_lost_phone_appeal_rebinds_the_phone(app, outbox):
    person_client = app.test_client()
    person = register_applicant(person_client, outbox)
    before = None
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(
            Account.id_number == person.id_number))
        account_id, before = account.id, account.password_hash
        db.session.add(WeChatBinding(account_id=account_id, appid="wxtest", openid_digest="e" * 64,
                                     openid_sealed="sealed"))
        db.session.commit()
        db.session.remove()
    new_phone = unique_phone()
    file_appeal(app.test_client(), outbox, "lost-phone", person.id_number, new_phone,
                name=person.name)
    appeal = appeal_row(app, id_number=person.id_number)
    admin, _ = staff_client(app, Role.ADMIN, "530000")
    response = admin.post(f"/appeals/{appeal.id}/decide", data={"outcome": "approved"},
                          headers=htmx())
    assert response.status_code == 204 and response.headers["HX-Redirect"].endswith("/appeals")
    account = account_row(app, account_id)
    assert account["phone"] == new_phone and account["password_hash"] == before
    assert person_client.get("/collection").status_code in (302, 303)
    assert any("已改绑本手机号" in text for text in messages_to(outbox, new_phone))
    assert log_in(app.test_client(), person) is None  # the password still works
    with app.app_context():  # the lost phone may carry the WeChat signed in: the binding ends
        assert db.session.scalar(sa.select(WeChatBinding).where(
            WeChatBinding.account_id == account_id)) is None
        db.session.remove()


def test_rejection_needs_a_reason_and_sends_it(app, held, outbox):
    person, appeal = held
    client, _member = staff_client(app, Role.REVIEWER, "530102")
    missing = client.post(f"/appeals/{appeal.id}/decide", data={"outcome": "rejected"})
    assert missing.status_code == 422 and "请填写不通过的原因" in body(missing)
    reason = "手持证件照片看不清证件号码，请重新拍摄后再次申诉"
    response = client.post(f"/appeals/{appeal.id}/decide",
                           data={"outcome": "rejected", "reason": reason})
    assert response.status_code == 303
    row = appeal_row(app, id=appeal.id)
    assert (row.status, row.reason) == ("rejected", reason)
    assert any("未通过" in text and reason in text for text in messages_to(outbox, appeal.phone))
    assert account_row(app, person.account_id)["phone"] == person.phone
    rejected = audit_rows(app, "appeal.reject")
    assert len(rejected) == 1 and reason in rejected[0].details
    again = client.post(f"/appeals/{appeal.id}/decide", data={"outcome": "approved"})
    assert again.status_code == 409 and "已处理" in body(again)


def test_an_appeal_against_an_unregistered_id_can_only_be_closed(app, outbox):
    id_number = unique_id()
    file_appeal(app.test_client(), outbox, "taken-id", id_number, phone := unique_phone())
    appeal = appeal_row(app, id_number=id_number)
    admin, _ = staff_client(app, Role.ADMIN, "530000")
    page = body(admin.get(f"/appeals/{appeal.id}"))
    assert "无此账号" in page
    refused = admin.post(f"/appeals/{appeal.id}/decide", data={"outcome": "approved"})
    assert refused.status_code == 422 and "无法通过" in body(refused)
    closed = admin.post(f"/appeals/{appeal.id}/decide",
                        data={"outcome": "rejected", "reason": "该证件号码尚未注册账号，请直接注册"})
    assert closed.status_code == 303
    assert any("尚未注册" in text for text in messages_to(outbox, phone))


def test_every_appeal_event_has_a_chinese_name():
    from domain.audit_events import EVENT_NAMES
    for code in ("appeal.file", "appeal.reveal", "appeal.image", "appeal.approve",
                 "appeal.reject"):
        assert code in EVENT_NAMES


def test_the_photos_of_a_decided_appeal_go_after_180_days(app, held):
    from datetime import timedelta

    from domain.maintenance import purge
    from models import utcnow
    _person, appeal = held
    open_one = make_appeal(app)
    with app.app_context():
        db.session.execute(sa.update(Appeal).where(Appeal.id == appeal.id).values(
            status="rejected", reason="照片不清楚", decided_at=utcnow() - timedelta(days=181)))
        db.session.commit()
        assert purge()["appeal_photos"] == 3
        left = dict(db.session.execute(sa.select(AppealPhoto.appeal_id, sa.func.count())
                                       .group_by(AppealPhoto.appeal_id)).all())
        assert left == {open_one: 3}
        assert db.session.get(Appeal, appeal.id).reason == "照片不清楚"
        db.session.remove()


def test_closing_an_account_leaves_the_appeal_about_it(app, outbox):
    from domain.account_closing import erase_account
    person = register_applicant(app.test_client(), outbox)
    appeal_id = make_appeal(app, with_ids(app, person))
    with app.app_context():
        erase_account(db.session.get(Account, person.account_id), None)
        db.session.commit()
        assert db.session.get(Appeal, appeal_id).account_id is None
        db.session.remove()


def test_an_expired_form_says_so_instead_of_asking_to_log_in(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/appeal/taken-id", data=appeal_data(unique_id(), unique_phone()))
    assert response.status_code == 400 and "页面已过期" in body(response)


def test_posts_of_the_form_are_limited_per_address(app, client):
    app.config["APPEAL_POST_IP_LIMIT"] = "2 per hour"
    try:
        for _ in range(2):
            assert client.post("/appeal/lost-phone", data={"action": "file"}).status_code == 422
        assert client.post("/appeal/lost-phone", data={"action": "file"}).status_code == 429
    finally:
        app.config["APPEAL_POST_IP_LIMIT"] = "60 per hour"


def test_an_imported_account_taken_before_its_owner_logged_in_is_given_back(app, outbox):
    """The honest weakness of the initial password (README): whoever knew the ID number bound
    their phone first. The owner appeals; approval gives them the account."""
    from domain.archive_import import import_rows
    id_number = unique_id()
    with app.app_context():
        assert import_rows([{"姓名": "孙原有", "证件号码": id_number, "资格级别": "中级",
                             "证书编号": "ZJ0009", "取得日期": "2010-05-01"}]).accepted == 1
        db.session.remove()
    intruder = app.test_client()
    assert login(intruder, id_number, id_number[-6:]).status_code == 303
    intruder_phone = unique_phone()
    intruder.post("/account/bind-phone/send-code", data={"phone": intruder_phone,
                                                          "captcha": CAPTCHA})
    bound = intruder.post("/account/bind-phone", data={
        "phone": intruder_phone, "sms_code": last_code(outbox, intruder_phone),
        "password": "Intruder#2026x", "password2": "Intruder#2026x"})
    assert bound.status_code == 303, body(bound)[-1500:]
    owner_phone = unique_phone()
    file_appeal(app.test_client(), outbox, "taken-id", id_number, owner_phone, name="孙原有")
    appeal = appeal_row(app, id_number=id_number)
    admin, _ = staff_client(app, Role.ADMIN, "530000")
    assert admin.post(f"/appeals/{appeal.id}/decide",
                      data={"outcome": "approved"}).status_code == 303
    assert intruder.get("/collection").status_code in (302, 303)
    assert any("已转由证件本人使用" in text for text in messages_to(outbox, intruder_phone))
    password = re.search(r"临时密码：(\S+) ", messages_to(outbox, owner_phone)[-1]).group(1)
    owner = app.test_client()
    assert login(owner, id_number, password).status_code == 303
    assert owner.get("/collection").headers["Location"].endswith("/account/password")
    assert "证件号码或密码不正确" in body(login(app.test_client(), id_number, id_number[-6:]))


def test_filing_over_htmx_redirects_with_hx_redirect(app, client, outbox):
    phone = unique_phone()
    sent = client.post("/appeal/taken-id/send-code", headers=htmx(),
                       data={"phone": phone, "captcha": CAPTCHA})
    assert sent.status_code == 200 and body(sent).lstrip().startswith("<form")
    assert "Vary" in sent.headers and "HX-Request" in sent.headers["Vary"]
    response = client.post("/appeal/taken-id", headers=htmx(), content_type="multipart/form-data",
                           data=appeal_data(unique_id(), phone, sms_code=last_code(outbox, phone))
                           | photos())
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/appeal/filed"


def test_the_staff_navigation_leads_to_the_appeals(app):
    reviewer, _ = staff_client(app, Role.REVIEWER, "530102")
    assert 'href="/appeals"' in body(reviewer.get("/review"))
    admin, _ = staff_client(app, Role.ADMIN, "530000")
    assert 'href="/appeals"' in body(admin.get("/admin/staff"))


def test_a_decision_with_an_error_over_htmx_gets_the_panel_alone(app, held):
    _person, appeal = held
    client, _member = staff_client(app, Role.REVIEWER, "530102")
    response = client.post(f"/appeals/{appeal.id}/decide", headers=htmx(), data={})
    page = body(response)
    assert response.status_code == 422 and page.lstrip().startswith('<div id="decision-panel">')
    assert "请选择通过或不通过" in page


def test_a_phone_bound_elsewhere_since_filing_stops_the_approval(app, held, outbox):
    _person, appeal = held
    other = register_applicant(app.test_client(), outbox)
    with app.app_context():
        db.session.execute(sa.update(Account).where(Account.id_number == other.id_number)
                           .values(phone=appeal.phone))
        db.session.commit()
        db.session.remove()
    client, _member = staff_client(app, Role.REVIEWER, "530102")
    response = client.post(f"/appeals/{appeal.id}/decide", data={"outcome": "approved"})
    assert response.status_code == 422 and "已绑定其他账号" in body(response)
    assert appeal_row(app, id=appeal.id).status == "open"


def test_a_staff_member_s_id_number_names_no_account(app, outbox):
    _client, member = staff_client(app, Role.REVIEWER, "530102")
    file_appeal(app.test_client(), outbox, "taken-id", member.id_number, unique_phone())
    assert appeal_row(app, id_number=member.id_number).account_id is None


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"),
                    reason="needs Redis: set TEST_REDIS_URL (.ci/run does)")
def test_appeal_counts_are_shared_between_hosts_through_redis(app):
    from app import create_app
    from config import TestConfig
    from domain.appeals import check_limits
    from domain.rate_limits import hit_all, moving_window

    class OnRedis(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        RATELIMIT_STORAGE_URI = os.environ["TEST_REDIS_URL"]
        APPEAL_PHONE_LIMITS = "1 per day"

    host_a, host_b = create_app(OnRedis), create_app(OnRedis)
    phone = "139" + str(uuid.uuid4().int)[:8]
    with host_a.app_context():
        check_limits(phone, "127.0.0.9")
        hit_all("APPEAL_PHONE_LIMITS", phone)
    with host_b.app_context():
        with pytest.raises(appeals.AppealLimited, match="该手机号提交申诉次数已达上限，请24小时后再试"):
            check_limits(phone, "127.0.0.9")
        moving_window().storage.reset()
