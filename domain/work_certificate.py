"""工作证明: the seed's appendix certificate as a one-page A4 PDF, filled in from the work section,
to print, stamp, photograph and upload. The font is embedded (reportlab subsets it), so the
Chinese renders on machines without any CJK font."""
import io
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from domain import answers
from domain.choices import ACCOUNTING_POSTS
from models import Application

FONT_FILE = Path(__file__).resolve().parent.parent / "data" / "fonts" / "wqy-zenhei-subset.ttf"
FONT = "WenQuanYiZenHei"
CERTIFICATE_POSTS = ACCOUNTING_POSTS + ["不从事会计工作岗位"]
MARGIN = 25 * mm


class CertificateUnavailable(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _register_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_FILE)))


def printable(text: str) -> str:
    """The text if the font has every character; else a blank to fill in by hand."""
    glyphs = pdfmetrics.getFont(FONT).face.charToGlyph
    return text if all(ord(char) in glyphs for char in text) else "____________"


def _wrap(text: str, size: float, width: float) -> list[str]:
    """Break Chinese text anywhere a line is full."""
    lines, line = [], ""
    for char in text:
        if pdfmetrics.stringWidth(line + char, FONT, size) > width:
            lines.append(line)
            line = char
        else:
            line += char
    return lines + [line] if line else lines


def _paragraph(pdf, text, y, size=13, leading=22):
    for line in _wrap(text, size, A4[0] - 2 * MARGIN):
        pdf.setFont(FONT, size)
        pdf.drawString(MARGIN, y, line)
        y -= leading
    return y


def _checkbox(pdf, x, y, ticked, size=10):
    pdf.rect(x, y - 1, size, size, stroke=1, fill=0)
    if ticked:
        pdf.setLineWidth(1.6)
        pdf.lines([(x + 2, y + 4, x + 4.5, y + 1), (x + 4.5, y + 1, x + 9, y + 9)])
        pdf.setLineWidth(1)


def work_certificate_pdf(application: Application) -> bytes:
    work = answers.of(application).work
    if work is None or not work.employed:
        raise CertificateUnavailable("请先完成工作信息（在岗人员）后再下载工作证明")
    employer = work.employer
    _register_font()
    account = application.account
    posts = set(employer.posts)
    bureau = application.jurisdiction.bureau_name if application.jurisdiction else "________财政局"
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1, initialFontName=FONT,
                        initialFontSize=13)
    pdf.setTitle("工作证明")
    pdf.setAuthor("云南省会计人员信息采集系统")
    pdf.setFont(FONT, 24)
    pdf.drawCentredString(A4[0] / 2, A4[1] - 35 * mm, "工作证明")
    y = A4[1] - 55 * mm
    y = _paragraph(pdf, f"兹有{printable(account.name)}（证件号码：{account.id_number}），"
                        "系我单位正式职工，从事如下工作：", y)
    y -= 4
    for post in CERTIFICATE_POSTS:
        _checkbox(pdf, MARGIN + 8, y, post in posts)
        pdf.setFont(FONT, 12)
        pdf.drawString(MARGIN + 24, y, post)
        y -= 19
    y -= 6
    code = employer.credit_code
    y = _paragraph(pdf, f"本单位证照号码（统一社会信用代码）为{code}，所属会计管理部门为{bureau}，"
                        "特此证明。", y)
    pdf.setFont(FONT, 13)
    right = A4[0] - MARGIN
    pdf.drawRightString(right, y - 40, f"{printable(employer.name)}（单位盖章）")
    pdf.drawRightString(right, y - 70, "年      月      日")
    pdf.setFont(FONT, 10)
    pdf.drawString(MARGIN, 25 * mm, "注：此文档填写盖章后拍照上传。请按此文档格式填写，否则将审核不通过。")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
