"""工作证明 (/collection/work-certificate.pdf): the seed's appendix certificate filled in from the
work section. Checked as a reader would see it, with poppler-utils: pdftotext for the words,
pdffonts for the embedded font, pdftoppm for the page as printed (not blank, the right posts
ticked)."""
import io
import re
import shutil
import subprocess

import pytest
from PIL import Image

from domain.choices import ACCOUNTING_POSTS
from domain.work_certificate import CERTIFICATE_POSTS
from models import Role
from tests.helpers import make_id
from tests.material_answers import (
    BASIC,
    CREDIT_CODE,
    EMPLOYED,
    ID_NUMBER,
    NOT_EMPLOYED,
    answer,
    fill,
    register_applicant,
    staff_client,
)

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("pdftotext", "pdffonts", "pdftoppm")),
    reason="poppler-utils (pdftotext, pdffonts, pdftoppm) is not installed")

URL = "/collection/work-certificate.pdf"
TICKED = ["出纳", "总账"]                          # EMPLOYED's posts
UNIT = EMPLOYED["unit_name"]


def run(args, data: bytes) -> bytes:
    """A poppler tool reading the PDF from stdin ('-'); its output from stdout."""
    result = subprocess.run(args, input=data, capture_output=True, timeout=60, check=True)
    return result.stdout


def pdf_text(data: bytes, *options) -> str:
    return run(["pdftotext", *options, "-enc", "UTF-8", "-", "-"], data).decode("utf-8")


def render(data: bytes, dpi: int) -> Image.Image:
    png = run(["pdftoppm", "-r", str(dpi), "-png", "-f", "1", "-l", "1", "-"], data)
    return Image.open(io.BytesIO(png)).convert("L")


def dark_fraction(image: Image.Image, box=None, threshold=128) -> float:
    part = image.crop(box) if box else image
    histogram = part.histogram()
    return sum(histogram[:threshold]) / (part.width * part.height)


@pytest.fixture
def certificate(client, outbox):
    register_applicant(client, outbox)
    fill(client)
    response = client.get(URL)
    assert response.status_code == 200
    return response


def test_a_pdf_download(certificate):
    assert certificate.mimetype == "application/pdf"
    assert certificate.data.startswith(b"%PDF-")
    assert certificate.headers["Content-Disposition"].startswith("attachment")
    assert certificate.headers["Content-Disposition"].endswith(".pdf")


def test_pdf_text_has_the_person_unit_and_bureau(certificate):
    text = pdf_text(certificate.data)
    flat = re.sub(r"\s+", "", text)
    assert "工作证明" in flat
    assert "张三" in flat and ID_NUMBER in flat
    assert CREDIT_CODE in flat
    assert "五华区财政局" in flat
    assert UNIT in flat and "单位盖章" in flat
    for post in CERTIFICATE_POSTS:                    # every box is printed, ticked or not
        assert post in flat, post
    assert "注：此文档填写盖章后拍照上传" in flat


def test_pdf_has_one_page(certificate):
    info = run(["pdfinfo", "-"], certificate.data).decode() if shutil.which("pdfinfo") else ""
    if info:
        assert re.search(r"^Pages:\s+1$", info, re.M)
        assert re.search(r"^Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info, re.M)


def test_font_is_embedded(certificate):
    lines = run(["pdffonts", "-"], certificate.data).decode().splitlines()
    header = lines[0].split()
    assert header[:3] == ["name", "type", "encoding"]
    fonts = [line for line in lines[2:] if line.strip()]
    assert fonts, "no font at all: the text would not render"
    for line in fonts:
        # name type… encoding emb sub uni object ID: the three yes/no columns before the id.
        emb, sub, uni = line.split()[-5:-2]
        assert emb == "yes", f"font not embedded: {line}"
        assert uni == "yes", f"no ToUnicode map (text not searchable/copyable): {line}"
    assert any("WenQuanYi" in line for line in fonts)


def test_page_is_not_blank(certificate):
    page = render(certificate.data, 50)
    assert page.size == (pytest.approx(413, abs=2), pytest.approx(585, abs=2))    # A4 at 50 dpi
    assert 0.003 < dark_fraction(page) < 0.2
    # The title sits at the top, centred: ink there.
    assert dark_fraction(page, (130, 50, 280, 110)) > 0.02


def _word_boxes(data: bytes) -> dict[str, tuple[float, float, float, float]]:
    """Each word's box in points (top-left origin), from pdftotext -bbox."""
    html = pdf_text(data, "-bbox")
    boxes = {}
    for x0, y0, x1, y1, word in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
            html):
        boxes.setdefault(word, (float(x0), float(y0), float(x1), float(y1)))
    return boxes


def test_the_persons_posts_are_ticked_and_no_other(certificate):
    """The checkbox is drawn left of each post's label: ink inside it means ticked."""
    dpi = 150
    scale = dpi / 72
    page = render(certificate.data, dpi)
    boxes = _word_boxes(certificate.data)
    ticked = {}
    for post in CERTIFICATE_POSTS:
        x0, y0, x1, y1 = boxes[post]
        middle = (y0 + y1) / 2
        # The 10 pt box starts 16 pt left of the label; look inside its border only.
        inside = (x0 - 14.5, middle - 3.5, x0 - 8.5, middle + 3.5)
        ticked[post] = dark_fraction(page, tuple(round(v * scale) for v in inside)) > 0.05
    assert ticked == {post: post in TICKED for post in CERTIFICATE_POSTS}
    assert set(TICKED) <= set(ACCOUNTING_POSTS)


def test_bureau_follows_the_unit_county(client, outbox):
    register_applicant(client, outbox)
    fill(client, work=dict(EMPLOYED, unit_county="530103", posts=[ACCOUNTING_POSTS[0]]))
    flat = re.sub(r"\s+", "", pdf_text(client.get(URL).data))
    assert "盘龙区财政局" in flat and "五华区财政局" not in flat


def test_not_employed_is_sent_to_the_work_section(client, outbox):
    register_applicant(client, outbox)
    fill(client, work=NOT_EMPLOYED)
    response = client.get(URL)
    assert response.status_code in (302, 303)
    assert response.headers["Location"].endswith("/collection/work")
    page = client.get("/collection/work").get_data(as_text=True)
    assert "请先完成工作信息（在岗人员）后再下载工作证明" in page
    assert client.get("/collection/materials").get_data(as_text=True).count("下载工作证明") == 0


def test_work_section_not_done_is_sent_to_it(client, outbox):
    register_applicant(client, outbox)
    answer(client, "basic", BASIC)
    response = client.get(URL)
    assert response.status_code in (302, 303)
    assert response.headers["Location"].endswith("/collection/work")


def test_the_list_offers_the_download_to_the_employed(client, outbox):
    register_applicant(client, outbox)
    fill(client)
    page = client.get("/collection/materials").get_data(as_text=True)
    assert f'href="{URL}"' in page and "下载工作证明" in page


def test_anonymous_and_staff_get_no_certificate(app):
    response = app.test_client().get(URL)
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]
    reviewer = staff_client(app, Role.REVIEWER, "530102")
    assert reviewer.get(URL).status_code == 404


def test_a_rare_character_in_the_name_is_printed(client, outbox):
    register_applicant(client, outbox, id_number=make_id(seq="777"), phone="13800005559",
                       name="刘䶮")
    fill(client)
    flat = re.sub(r"\s+", "", pdf_text(client.get(URL).data))
    assert "刘䶮" in flat


def test_a_name_beyond_the_font_is_left_blank_to_write_by_hand(client, outbox):
    # CJK Extension B: accepted as a name, but not in the embedded font.
    register_applicant(client, outbox, id_number=make_id(seq="778"), phone="13800005558",
                       name="王\U00020001")
    fill(client)
    flat = re.sub(r"\s+", "", pdf_text(client.get(URL).data))
    assert "兹有____________（证件号码" in flat
