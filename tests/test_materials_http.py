"""证明材料 over HTTP: which materials the answers require, uploads as a plain form and as
static/js/upload.js sends them, the 1-inch photo's preview and confirmation, replacing, refusals
(422, 413, 409) that store nothing, and who may see an uploaded image (/media/materials/<id>.jpg).

The application's jurisdiction comes from the work section: employed in 五华区 (530102)."""
import io
import re

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from domain import staff
from extensions import db
from models import Account, Application, AuditEntry, Material, Role
from tests import images_factory as factory
from tests.helpers import htmx, make_id
from tests.material_answers import (
    ALWAYS,
    BASIC,
    FULL_TIME,
    ID_CARD,
    ID_NUMBER,
    NO_EDUCATION,
    NOT_EMPLOYED,
    PART_TIME,
    STUDENT,
    answer,
    education,
    fill,
    qualification,
    register_applicant,
    staff_client,
)


@pytest.fixture
def applicant(client, outbox):
    """Registered, logged in, the four data sections answered (在岗 in 五华区, no education or
    qualification records)."""
    register_applicant(client, outbox)
    fill(client)
    return client


def required_titles(client) -> list[str]:
    page = client.get("/collection/materials")
    assert page.status_code == 200
    return re.findall(r'<h2 class="material__title">(.*?)</h2>', page.get_data(as_text=True))


def materials_status(client) -> str:
    page = client.get("/collection").get_data(as_text=True)
    match = re.search(r"5\. 证明材料</span>\s*<strong class=\"tag[^\"]*\">(.*?)</strong>", page)
    assert match, page
    return match.group(1)


def rows(app) -> list[Material]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Material).order_by(Material.id)))
        db.session.expunge_all()
        return rows


def kinds(app) -> dict[str, Material]:
    """Materials by kind; a 1-inch photo waiting for confirmation shows as "id_photo.pending"."""
    return {f"{m.kind}.pending" if m.pending else m.kind: m for m in rows(app)}


def application_of(app, id_number=ID_NUMBER) -> Application:
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(Account.id_number == id_number))
        application = db.session.scalar(
            sa.select(Application).where(Application.account_id == account.id))
        db.session.expunge_all()
        return application


def set_status(app, status, id_number=ID_NUMBER):
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(Account.id_number == id_number))
        db.session.execute(sa.update(Application).where(Application.account_id == account.id)
                           .values(status=status))
        db.session.commit()


# -- uploading -------------------------------------------------------------------------------

def upload(client, kind, data, script=False, filename="photo.jpg"):
    """As the plain form posts it, or (script=True) as upload.js does: XHR with HX-Request.
    The body is encoded in memory: the test client spools bodies over 500 KB to a temporary
    file it never closes (a ResourceWarning, an error under this suite's filterwarnings)."""
    boundary, body = encode_multipart({"photo": FileStorage(io.BytesIO(data), filename,
                                                            content_type="image/jpeg")})
    return client.post(f"/collection/materials/{kind}", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}",
                       headers=htmx() if script else {})


def document(seed=1) -> bytes:
    """A phone photo of a document, small enough to keep the suite quick."""
    return factory.camera_document(1600, 1200, seed=seed)


def id_photo() -> bytes:
    return factory.portrait(900, 1200)


def upload_id_photo(client):
    assert upload(client, "id_photo", id_photo()).status_code == 303
    assert client.post("/collection/materials/id_photo/preview").status_code == 303


def upload_all(client, kinds_):
    for kind in kinds_:
        if kind == "id_photo":
            upload_id_photo(client)
        else:
            assert upload(client, kind, document()).status_code == 303, kind


# Which materials the answers require ------------------------------------------------------------

REQUIREMENTS = [
    pytest.param({}, "居民身份证", ALWAYS + ID_CARD + ["工作证明"], id="resident-employed"),
    pytest.param({}, "护照", ALWAYS + ["护照个人资料页", "工作证明"], id="passport-employed"),
    pytest.param({"work": NOT_EMPLOYED}, "居民身份证", ALWAYS + ID_CARD + ["居住证或户口簿"],
                 id="not-employed"),
    pytest.param({"work": STUDENT}, "居民身份证", ALWAYS + ID_CARD + ["学生证"], id="student"),
    pytest.param({"edu": education(full_time=True)}, "居民身份证",
                 ALWAYS + ID_CARD + ["工作证明", FULL_TIME], id="full-time-education"),
    pytest.param({"edu": education(full_time=True, part_time=True)}, "居民身份证",
                 ALWAYS + ID_CARD + ["工作证明", FULL_TIME, PART_TIME], id="both-educations"),
    pytest.param({"edu": education(part_time=True)}, "居民身份证",
                 ALWAYS + ID_CARD + ["工作证明", PART_TIME], id="part-time-education"),
    pytest.param({"qual": qualification("初级")}, "居民身份证",
                 ALWAYS + ID_CARD + ["工作证明", "会计专业技术资格证书（初级）"], id="one-qualification"),
    pytest.param({"qual": qualification("初级", "中级", "高级")}, "居民身份证",
                 ALWAYS + ID_CARD + ["工作证明", "会计专业技术资格证书（初级）",
                                     "会计专业技术资格证书（中级）", "会计专业技术资格证书（高级）"],
                 id="three-qualifications"),
]


@pytest.mark.parametrize("answers, id_type, expected", REQUIREMENTS)
def test_required_materials_follow_the_answers(client, outbox, answers, id_type, expected):
    if id_type == "护照":
        register_applicant(client, outbox, id_number="E12345678", name="张三", id_type="护照")
        basic = dict(BASIC, gender="男", birth_date="1990-01-01")
    else:
        register_applicant(client, outbox)
        basic = BASIC
    fill(client, basic=basic, **answers)
    assert required_titles(client) == expected


def test_no_list_and_no_upload_before_the_data_sections_are_done(client, outbox, app):
    register_applicant(client, outbox)
    answer(client, "basic", BASIC)
    page = client.get("/collection/materials").get_data(as_text=True)
    assert "请先完成基本信息、工作信息、学历信息和专业技术资格信息" in page
    assert "material__title" not in page
    assert upload(client, "id_front", document()).status_code == 404
    assert rows(app) == []


def test_a_material_the_answers_do_not_require_cannot_be_uploaded(applicant, app):
    for kind in ("residence_proof", "education_full_time", "qualification_junior",
                 "id_photo.pending", "anything"):
        assert upload(applicant, kind, document()).status_code == 404, kind
    assert rows(app) == []


def test_section_is_completed_when_every_required_material_is_present(applicant, app):
    assert materials_status(applicant) == "未填写"
    upload_all(applicant, ["id_photo", "id_front", "id_back"])
    assert materials_status(applicant) == "未填写"                 # 工作证明 still missing
    upload_all(applicant, ["work_proof"])
    assert materials_status(applicant) == "已完成"
    page = applicant.get("/collection/materials").get_data(as_text=True)
    assert page.count("未上传") == 0 and page.count(">已上传<") == 4


def test_answer_that_drops_a_material_keeps_the_file_but_stops_listing_it(client, outbox, app):
    register_applicant(client, outbox)
    fill(client, edu=education(full_time=True))
    upload_all(client, ["id_photo", "id_front", "id_back", "work_proof", "education_full_time"])
    assert materials_status(client) == "已完成"
    kept = kinds(app)["education_full_time"]

    answer(client, "education", NO_EDUCATION)
    assert FULL_TIME not in required_titles(client)
    assert kinds(app)["education_full_time"].sha256 == kept.sha256      # the file is kept
    assert materials_status(client) == "已完成"
    # And it comes back, already uploaded, if the answer comes back.
    answer(client, "education", education(full_time=True))
    assert FULL_TIME in required_titles(client)
    assert materials_status(client) == "已完成"


def test_answer_that_requires_a_new_material_reopens_the_section(applicant, app):
    upload_all(applicant, ["id_photo", "id_front", "id_back", "work_proof"])
    assert materials_status(applicant) == "已完成"

    answer(applicant, "qualification", qualification("中级"))
    assert "会计专业技术资格证书（中级）" in required_titles(applicant)
    assert materials_status(applicant) == "未填写"
    upload_all(applicant, ["qualification_intermediate"])
    assert materials_status(applicant) == "已完成"

    # No longer employed: 工作证明 is kept but not listed, 居住证或户口簿 is now needed.
    answer(applicant, "work", NOT_EMPLOYED)
    titles = required_titles(applicant)
    assert "工作证明" not in titles and "居住证或户口簿" in titles
    assert "work_proof" in kinds(app)
    assert materials_status(applicant) == "未填写"


# Uploading --------------------------------------------------------------------------------------

def test_plain_form_upload_redirects_back_to_the_list(applicant, app):
    response = upload(applicant, "id_front", document())
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/collection/materials#material-id_front")
    (material,) = rows(app)
    assert material.kind == "id_front" and material.size_bytes <= 200 * 1024
    assert max(material.width, material.height) <= 1600
    page = applicant.get("/collection/materials").get_data(as_text=True)
    assert "身份证正面已上传" in page                                  # the flash
    assert f"/media/materials/{material.id}-thumb.jpg" in page


def test_script_upload_gets_hx_redirect(applicant, app):
    response = upload(applicant, "id_back", document(), script=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].endswith("/collection/materials#material-id_back")
    assert response.get_data() == b""
    assert [m.kind for m in rows(app)] == ["id_back"]


def test_12mp_upload_is_stored_processed(applicant, app):
    data = factory.camera_document()
    assert len(data) > 2_000_000
    assert upload(applicant, "work_proof", data).status_code == 303
    (material,) = rows(app)
    assert (material.width, material.height) == (1600, 1200)
    assert material.size_bytes <= 200 * 1024
    assert "压缩" in material.notes


def test_id_photo_goes_to_a_preview_and_is_kept_only_after_confirmation(applicant, app):
    response = upload(applicant, "id_photo", id_photo())
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/collection/materials/id_photo/preview")
    assert set(kinds(app)) == {"id_photo.pending"}
    pending = kinds(app)["id_photo.pending"]
    assert (pending.width, pending.height) == (295, 413) and pending.size_bytes <= 20 * 1024

    page = applicant.get("/collection/materials/id_photo/preview").get_data(as_text=True)
    assert "使用这张照片" in page
    assert f"/media/materials/{pending.id}.jpg" in page
    assert "裁剪" in page and "压缩" in page
    image = applicant.get(f"/media/materials/{pending.id}.jpg")
    assert image.status_code == 200
    assert factory.Image.open(io.BytesIO(image.data)).size == (295, 413)
    # Not yet the ID photo: the list still says 未上传 for it.
    assert materials_status(applicant) == "未填写"
    listing = applicant.get("/collection/materials").get_data(as_text=True)
    assert re.search(r'id="material-id_photo">.*?未上传', listing, re.S)

    response = applicant.post("/collection/materials/id_photo/preview")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/collection/materials#material-id_photo")
    assert set(kinds(app)) == {"id_photo"}
    assert kinds(app)["id_photo"].sha256 == pending.sha256
    # Nothing pending any more: the preview page sends back to the list.
    assert applicant.get("/collection/materials/id_photo/preview").status_code == 303


def test_id_photo_by_script_goes_to_the_preview(applicant, app):
    response = upload(applicant, "id_photo", id_photo(), script=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].endswith("/collection/materials/id_photo/preview")
    assert set(kinds(app)) == {"id_photo.pending"}


def test_replacing_a_document_replaces_it(applicant, app):
    upload(applicant, "id_front", document(seed=1))
    first = kinds(app)["id_front"]
    assert upload(applicant, "id_front", document(seed=2)).status_code == 303
    materials = rows(app)
    assert len(materials) == 1 and materials[0].kind == "id_front"
    assert materials[0].sha256 != first.sha256


def test_replacing_the_id_photo_replaces_it(applicant, app):
    upload_id_photo(applicant)
    first = kinds(app)["id_photo"]
    assert upload(applicant, "id_photo", factory.portrait(1200, 1600)).status_code == 303
    assert set(kinds(app)) == {"id_photo", "id_photo.pending"}
    assert kinds(app)["id_photo"].sha256 == first.sha256       # the kept one until confirmed
    assert applicant.post("/collection/materials/id_photo/preview").status_code == 303
    materials = rows(app)
    assert [m.kind for m in materials] == ["id_photo"]
    assert materials[0].sha256 != first.sha256


BAD = [
    pytest.param("id_front", factory.gif, "GIF", id="gif"),
    pytest.param("id_front", factory.svg_with_script, "SVG", id="svg"),
    pytest.param("id_front", factory.html_page, "网页", id="html"),
    pytest.param("id_front", factory.php_script, "脚本", id="php"),
    pytest.param("id_front", factory.empty, "0字节", id="empty"),
    pytest.param("id_front", factory.truncated_jpeg, "不完整", id="truncated"),
    pytest.param("id_front", factory.png_claiming, "像素过大", id="png-50000x50000"),
    pytest.param("id_photo", factory.portrait_tiny, "像素过低", id="photo-100x140"),
    pytest.param("id_photo", factory.portrait_dark_background, "背景不是白色", id="photo-dark"),
    pytest.param("id_photo", factory.portrait_off_centre, "没有居中", id="photo-off-centre"),
    pytest.param("id_photo", factory.portrait_small_head, "太小", id="photo-small-head"),
]


@pytest.mark.parametrize("script", [False, True], ids=["form", "script"])
@pytest.mark.parametrize("kind, make, words", BAD)
def test_bad_upload_is_refused_with_its_message_and_stores_nothing(applicant, app, kind, make,
                                                                  words, script):
    response = upload(applicant, kind, make(), script=script)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert words in body
    assert f'id="problem-{kind}"' in body                     # beside the right material
    if script:
        assert body.lstrip().startswith('<div id="materials">')  # the block upload.js swaps in
        assert "<html" not in body
    assert rows(app) == []


def test_no_file_at_all_is_refused(applicant, app):
    response = applicant.post("/collection/materials/id_front", data={},
                              content_type="multipart/form-data")
    assert response.status_code == 422 and "0字节" in response.get_data(as_text=True)
    assert rows(app) == []


def test_bad_replacement_keeps_the_old_image(applicant, app):
    upload(applicant, "id_front", document())
    before = kinds(app)["id_front"]
    assert upload(applicant, "id_front", factory.html_page()).status_code == 422
    after = rows(app)
    assert len(after) == 1 and after[0].sha256 == before.sha256


@pytest.mark.parametrize("script", [False, True], ids=["form", "script"])
def test_upload_over_max_content_length_is_413_with_a_readable_page(applicant, app, monkeypatch,
                                                                   script):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 100 * 1024)
    response = upload(applicant, "id_front", factory.camera_document(), script=script)
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert response.mimetype_params.get("charset", "").lower() == "utf-8"
    body = response.get_data(as_text=True)
    assert "文件过大" in body and "超过了大小限制" in body
    if script:
        assert response.headers["HX-Retarget"] == "#messages"
    else:
        assert "<html" in body.lower()
    assert rows(app) == []


def test_locked_application_refuses_uploads_and_confirmation(applicant, app):
    assert upload(applicant, "id_photo", id_photo()).status_code == 303   # pending, unconfirmed
    set_status(app, "pending")
    for kind, data in (("id_front", document()), ("id_photo", id_photo())):
        response = upload(applicant, kind, data)
        assert response.status_code == 409, kind
        assert "审核期间不能修改" in response.get_data(as_text=True)
    assert applicant.post("/collection/materials/id_photo/preview").status_code == 409
    assert set(kinds(app)) == {"id_photo.pending"}
    page = applicant.get("/collection/materials").get_data(as_text=True)
    assert 'class="upload"' not in page                              # no upload forms shown


# Who may see an image -----------------------------------------------------------------------



def image_views(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "image.view"))


@pytest.fixture
def uploaded(applicant, app):
    assert upload(applicant, "id_front", document()).status_code == 303
    material = kinds(app)["id_front"]
    assert application_of(app).jurisdiction_code == "530102"       # from the work section
    return material


def test_owner_sees_the_image_with_safe_headers(applicant, uploaded, app):
    for suffix, side in (("", 1600), ("-thumb", 240)):
        response = applicant.get(f"/media/materials/{uploaded.id}{suffix}.jpg")
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "image/jpeg"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "private, no-store"
        disposition = response.headers["Content-Disposition"]
        variant = "thumb" if suffix else "full"
        assert disposition == f'inline; filename="material-{uploaded.id}-{variant}.jpg"'
        image = factory.Image.open(io.BytesIO(response.data))
        assert image.format == "JPEG" and max(image.size) == side
    assert applicant.get(f"/media/materials/{uploaded.id}.jpg").data[:3] == b"\xff\xd8\xff"
    assert image_views(app) == 0                                  # the owner is not audited


def test_another_applicant_gets_404(uploaded, app, outbox):
    other = app.test_client()
    register_applicant(other, outbox, id_number=make_id(seq="456"), phone="13800005552",
                       name="李四")
    assert other.get(f"/media/materials/{uploaded.id}.jpg").status_code == 404
    assert other.get(f"/media/materials/{uploaded.id}-thumb.jpg").status_code == 404
    assert other.get("/media/materials/999999.jpg").status_code == 404


@pytest.mark.parametrize("role, region, status", [
    pytest.param(Role.REVIEWER, "530102", 200, id="reviewer-same-county"),
    pytest.param(Role.REVIEWER, "530100", 200, id="reviewer-prefecture"),
    pytest.param(Role.REVIEWER, "530000", 200, id="reviewer-province"),
    pytest.param(Role.REVIEWER, "530103", 404, id="reviewer-neighbouring-county"),
    pytest.param(Role.REVIEWER, "530300", 404, id="reviewer-other-prefecture"),
    pytest.param(Role.ADMIN, "530000", 404, id="admin"),
    pytest.param(Role.AUDITOR, "530000", 404, id="auditor"),
])
def test_staff_see_images_of_their_jurisdiction_only(uploaded, app, role, region, status):
    client = staff_client(app, role, region)
    before = image_views(app)
    response = client.get(f"/media/materials/{uploaded.id}.jpg")
    assert response.status_code == status
    if status == 200:
        assert response.headers["Content-Type"] == "image/jpeg"
        assert response.headers["Cache-Control"] == "private, no-store"
        assert image_views(app) == before + 1
        with app.app_context():
            entry = db.session.scalars(sa.select(AuditEntry).where(
                AuditEntry.action == "image.view").order_by(AuditEntry.id.desc())).first()
            assert "id_front" in entry.details and "full" in entry.details
            assert ID_NUMBER not in entry.subject                    # masked
            assert entry.actor_id is not None
    else:
        assert image_views(app) == before


def test_jurisdiction_follows_the_work_section(applicant, uploaded, app):
    """Moving the application to 盘龙区 moves it out of 五华区's reviewer's sight."""
    wuhua = staff_client(app, Role.REVIEWER, "530102")
    panlong = staff_client(app, Role.REVIEWER, "530103")
    assert wuhua.get(f"/media/materials/{uploaded.id}.jpg").status_code == 200
    assert panlong.get(f"/media/materials/{uploaded.id}.jpg").status_code == 404
    answer(applicant, "work", NOT_EMPLOYED)                           # 采集所在地: 530103
    assert application_of(app).jurisdiction_code == "530103"
    assert wuhua.get(f"/media/materials/{uploaded.id}.jpg").status_code == 404
    assert panlong.get(f"/media/materials/{uploaded.id}.jpg").status_code == 200


def test_anonymous_is_sent_to_login(uploaded, app):
    response = app.test_client().get(f"/media/materials/{uploaded.id}.jpg")
    assert response.status_code in (302, 303)
    assert "/login" in response.headers["Location"]
    assert response.data[:3] != b"\xff\xd8\xff"


def test_staff_cannot_upload(uploaded, app):
    reviewer = staff_client(app, Role.REVIEWER, "530102")
    assert upload(reviewer, "id_front", document()).status_code == 404
    assert len(rows(app)) == 1


# A rejected application whose materials were reopened -----------------------------------------

def reject(app, reopen, id_number=ID_NUMBER):
    """Submitted, then 不通过 by 五华区's reviewer with `reopen` to fix (domain.review.decide)."""
    from domain.review import Decision, decide
    set_status(app, "pending", id_number)
    reviewer_id = make_id(region="530102", birth="19800101", seq="999")
    with app.app_context():
        reviewer, _password = staff.create_staff(Role.REVIEWER, "530102", reviewer_id, "王审核",
                                                 "13900009999")
        application = db.session.scalar(sa.select(Application).join(
            Account, Application.account_id == Account.id).where(Account.id_number == id_number))
        decide(application, reviewer, Decision(approved=False, reasons=["照片不符合要求"],
                                               reopen=list(reopen)), ip="127.0.0.1")


def test_reopened_materials_accept_several_uploads_and_a_new_id_photo(applicant, app):
    upload_all(applicant, ["id_photo", "id_front", "id_back", "work_proof"])
    reject(app, ["materials"])
    assert materials_status(applicant) == "需修改"
    old = kinds(app)
    assert upload(applicant, "work_proof", document(seed=3)).status_code == 303
    assert materials_status(applicant) == "已完成"
    # A second upload and the ID photo's confirmation are still allowed before resubmitting.
    assert upload(applicant, "id_front", document(seed=4)).status_code == 303
    assert upload(applicant, "id_photo", factory.portrait(1200, 1600)).status_code == 303
    assert applicant.post("/collection/materials/id_photo/preview").status_code == 303
    new = kinds(app)
    assert set(new) == {"id_photo", "id_front", "id_back", "work_proof"}
    for kind in ("work_proof", "id_front", "id_photo"):
        assert new[kind].sha256 != old[kind].sha256, kind
    assert new["id_back"].sha256 == old["id_back"].sha256


def test_rejected_without_reopening_materials_keeps_them_locked(applicant, app):
    upload_all(applicant, ["id_photo", "id_front", "id_back", "work_proof"])
    reject(app, ["basic"])
    before = kinds(app)
    response = upload(applicant, "work_proof", document(seed=3))
    assert response.status_code == 409
    assert "此部分无需修改" in response.get_data(as_text=True)
    assert {k: m.sha256 for k, m in kinds(app).items()} == \
        {k: m.sha256 for k, m in before.items()}
