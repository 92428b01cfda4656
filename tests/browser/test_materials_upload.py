"""证明材料 at phone size: a 12 MP camera photo goes up shrunk by the page's script (≤ 200 KB),
the 1-inch photo is previewed and confirmed, a GIF dressed as .jpg is refused with its own
message, the plain form works without JavaScript, and the filled-in 工作证明 downloads as a PDF."""
import pytest
from playwright.sync_api import Page, expect

from tests import images_factory
from tests.browser.pages import (
    HttpApplicant,
    button,
    check_page,
    loaded,
    log_in,
    posted_to,
    register_applicant,
    stored_kinds,
    url_ending,
)
from tests.helpers import make_id

DOCUMENT_LIMIT = 200 * 1024
MULTIPART_OVERHEAD = 4 * 1024          # boundaries, headers and the CSRF token


def material(page: Page, kind: str):
    """One row of the materials list (<li id="material-<kind>">)."""
    return page.locator(f"#material-{kind}")


def file_input(page: Page, kind: str):
    return page.locator(f"#photo-{kind}")


def expect_uploaded(page: Page, kind: str, title: str):
    row = material(page, kind)
    expect(row.locator(".tag")).to_have_text("已上传")
    loaded(page)    # the list was loaded again: let its scripts start before the next upload
    image_size(page, row.get_by_role("img", name=f"已上传的{title}"))
    expect(row.locator(".field__error")).to_have_count(0)


def image_size(page: Page, image) -> list[int]:
    """Wait until the picture has really loaded; its natural [width, height]."""
    expect(image).to_be_visible()
    image.scroll_into_view_if_needed()   # thumbnails are loading="lazy"
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=image.element_handle())
    return image.evaluate("img => [img.naturalWidth, img.naturalHeight]")


def let_upload_bodies_be_read(page: Page):
    """Chromium tells Playwright the body of a request holding a Blob (what the script sends)
    only when the request is intercepted; without a route, post_data_buffer is None. The route
    changes nothing: every upload goes on as it is."""
    page.route("**/collection/materials/*", lambda route: route.continue_())


@pytest.fixture
def person(app):
    """An employed accountant whose four data sections are complete, nothing uploaded yet."""
    someone = register_applicant(app, make_id(seq="421"), "13800000421", name="赵敏")
    HttpApplicant(app, someone).fill_sections()
    return someone


@pytest.fixture(scope="module")
def camera_photo(tmp_path_factory):
    """A 4000×3000 phone photo of a certificate, 2–5 MB, on disk like a file in the gallery."""
    data = images_factory.camera_document(4000, 3000)
    assert 2 * 1024 * 1024 <= len(data) <= 5 * 1024 * 1024, len(data)
    path = tmp_path_factory.mktemp("camera") / "IMG_20260115_103000.jpg"
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def portrait_photo(tmp_path_factory):
    """A 12 MP (3000×4000) portrait on a white wall, head centred."""
    path = tmp_path_factory.mktemp("portrait") / "IMG_20260115_104500.jpg"
    path.write_bytes(images_factory.portrait_12mp())
    return path


@pytest.mark.browser
def test_uploads_with_javascript(page: Page, app, person, camera_photo, portrait_photo,
                                 snapshot):
    log_in(page, person)
    let_upload_bodies_be_read(page)
    page.goto("/collection/materials")
    for kind in ("id_photo", "id_front", "id_back", "work_proof"):
        expect(material(page, kind).locator(".tag")).to_have_text("未上传")
    expect(button(page, "上传").first).to_be_hidden()   # the script uploads on choosing a file
    expect(material(page, "id_front").locator(".upload__progress")).to_be_hidden()
    check_page(page, "materials_js_empty", snapshot)

    # A 12 MP camera photo: shrunk in the page before it is sent.
    with page.expect_request(posted_to("/collection/materials/id_front")) as sent:
        file_input(page, "id_front").set_input_files(camera_photo)
    body = sent.value.post_data_buffer
    assert sent.value.headers.get("hx-request") == "true"
    assert len(body) <= DOCUMENT_LIMIT + MULTIPART_OVERHEAD, \
        f"{len(body)} bytes sent for a {camera_photo.stat().st_size}-byte photo"
    assert b'filename="photo.jpg"' in body and b"Content-Type: image/jpeg" in body
    expect_uploaded(page, "id_front", "身份证正面")
    expect(page.locator("#messages")).to_contain_text("身份证正面已上传")
    check_page(page, "materials_js_id_front_uploaded", snapshot)

    # The 1-inch photo: processed, shown for confirmation, then kept.
    with page.expect_request(posted_to("/collection/materials/id_photo")) as sent:
        file_input(page, "id_photo").set_input_files(portrait_photo)
    assert len(sent.value.post_data_buffer) <= 20 * 1024 + MULTIPART_OVERHEAD
    expect(page).to_have_url(url_ending("/collection/materials/id_photo/preview"))
    assert image_size(page, page.get_by_role("img", name="处理后的1寸证件照")) == [295, 413]
    fixes = page.locator(".notice", has_text="系统已自动处理")
    expect(fixes).to_contain_text("压缩")
    check_page(page, "materials_js_photo_preview", snapshot)
    button(page, "使用这张照片").click()
    expect(page).to_have_url(url_ending("/collection/materials"))
    loaded(page)
    expect(page.locator("#messages")).to_contain_text("证件照已保存")
    expect_uploaded(page, "id_photo", "1寸白底证件照")

    # A GIF named .jpg: refused with the format's own message, nothing stored.
    with page.expect_response(posted_to("/collection/materials/id_back")) as answer:
        file_input(page, "id_back").set_input_files(
            {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": images_factory.gif()})
    assert answer.value.status == 422
    assert answer.value.request.post_data_buffer.count(b"GIF8") == 1   # sent as it was
    problem = material(page, "id_back").get_by_role("alert")
    expect(problem).to_have_text("不支持GIF格式，请上传JPG或PNG格式的照片")
    expect(file_input(page, "id_back")).to_have_attribute("aria-invalid", "true")
    expect(material(page, "id_back").locator(".tag")).to_have_text("未上传")
    assert "id_back" not in stored_kinds(app, person)
    check_page(page, "materials_js_gif_refused", snapshot)

    # The filled-in 工作证明, downloaded with the page's own session.
    response = page.request.get("/collection/work-certificate.pdf")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body()[:5] == b"%PDF-"

    assert stored_kinds(app, person) == {"id_front", "id_photo"}


@pytest.mark.browser
def test_uploads_without_javascript(new_context, app, person, camera_photo, portrait_photo,
                                    snapshot):
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, person)
    page.goto("/collection/materials")
    upload = button(material(page, "work_proof"), "上传")
    expect(upload).to_be_visible()
    check_page(page, "materials_nojs", snapshot)

    # The camera photo goes up whole (no script to shrink it); the server does the work.
    file_input(page, "work_proof").set_input_files(camera_photo)
    with page.expect_navigation() as navigation:
        upload.click()
    posted = navigation.value.request.redirected_from
    assert posted is not None and posted.method == "POST"
    sent = int(posted.all_headers()["content-length"])   # a form's file part: no body to read
    assert sent > camera_photo.stat().st_size
    expect(page).to_have_url(url_ending("/collection/materials"))
    expect(page.locator("#messages")).to_contain_text("工作证明已上传")
    expect(page.locator("#messages")).to_contain_text("已自动压缩")
    expect_uploaded(page, "work_proof", "工作证明")
    check_page(page, "materials_nojs_uploaded", snapshot)

    # The uncropped 12 MP portrait: here the server crops as well as compresses.
    file_input(page, "id_photo").set_input_files(portrait_photo)
    with page.expect_navigation():
        button(material(page, "id_photo"), "上传").click()
    expect(page).to_have_url(url_ending("/collection/materials/id_photo/preview"))
    fixes = page.locator(".notice", has_text="系统已自动处理")
    expect(fixes).to_contain_text("已裁剪为1寸比例（295×413像素）")
    expect(fixes).to_contain_text("已压缩至")
    check_page(page, "materials_nojs_photo_preview", snapshot)
    button(page, "使用这张照片").click()
    expect_uploaded(page, "id_photo", "1寸白底证件照")
    assert stored_kinds(app, person) == {"work_proof", "id_photo"}
