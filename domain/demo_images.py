"""Pictures for demo applications, drawn with Pillow: an ID card front with the typed name and
number, its back, a 1-inch portrait on white and a stamped 工作证明 — so a reviewer training on
demo data sees what a real application shows. Each carries a red "演示样例" mark: none of it is
a real document. They go through the same pipeline as an upload (domain.images)."""
import io
import random
from datetime import date
from functools import cache

from PIL import Image, ImageDraw, ImageFont

from domain.images import ImageRules, ProcessedImage, process_document, process_id_photo
from domain.work_certificate import FONT_FILE

CARD = (856, 540)          # ID-1 card proportions (85.6 × 54 mm), 10 px per mm
PAPER = (900, 1270)        # A4 proportions
INK, FAINT, RED = (30, 30, 30), (110, 110, 110), (200, 30, 30)


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_FILE), size)


def _sample_mark(draw: ImageDraw.ImageDraw, where: tuple[int, int], size=40) -> None:
    draw.text(where, "演示样例", font=_font(size), fill=RED)


SHRINK = 0.75     # drawn large for clean text, kept smaller: demo data fills a database


def _jpeg(image: Image.Image, shrink: float = SHRINK) -> bytes:
    if shrink != 1:
        image = image.resize((round(image.width * shrink), round(image.height * shrink)),
                             Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _write(draw: ImageDraw.ImageDraw, text: str, left: int, top: int, width: int, size: int,
           line_height: int) -> None:
    """Chinese text broken wherever a line is full."""
    font, line = _font(size), ""
    for char in text:
        if draw.textlength(line + char, font=font) > width:
            draw.text((left, top), line, font=font, fill=INK)
            top, line = top + line_height, char
        else:
            line += char
    draw.text((left, top), line, font=font, fill=INK)


def _portrait(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """Head and shoulders, centred, on white."""
    w, h = size
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    skin = (rng.randrange(200, 235), rng.randrange(160, 195), rng.randrange(130, 165))
    hair = (rng.randrange(20, 60),) * 3
    coat = (rng.randrange(20, 90), rng.randrange(30, 90), rng.randrange(60, 140))
    draw.ellipse((w * 0.12, h * 0.66, w * 0.88, h * 1.25), fill=coat)              # shoulders
    draw.rectangle((w * 0.42, h * 0.52, w * 0.58, h * 0.7), fill=skin)             # neck
    draw.ellipse((w * 0.3, h * 0.14, w * 0.7, h * 0.6), fill=skin)                 # face
    draw.chord((w * 0.28, h * 0.1, w * 0.72, h * 0.45), 180, 360, fill=hair)       # hair
    for x in (0.42, 0.58):                                                          # eyes
        draw.ellipse((w * x - 5, h * 0.37 - 4, w * x + 5, h * 0.37 + 4), fill=INK)
    draw.line((w * 0.44, h * 0.5, w * 0.56, h * 0.5), fill=(150, 60, 60), width=3)  # mouth
    return image


PORTRAITS = 24   # people drawn once and shared: the typed name and number make each card


@cache
def _face(index: int) -> Image.Image:
    return _portrait(random.Random(index), (600, 800))


def id_photo(index: int) -> bytes:
    """The 1-inch photo as a phone would take it: larger than needed, to be cropped."""
    image = _face(index).copy()
    _sample_mark(ImageDraw.Draw(image), (20, 740), 36)
    return _jpeg(image, shrink=1)


@cache
def _card_face(index: int) -> Image.Image:
    return _face(index).resize((230, 290), Image.Resampling.BILINEAR)


def id_card_front(portrait: Image.Image, name: str, id_number: str, gender: str,
                  ethnicity: str, born: date, address: str) -> bytes:
    card = Image.new("RGB", CARD, (236, 240, 246))
    draw = ImageDraw.Draw(card)
    draw.rounded_rectangle((2, 2, CARD[0] - 3, CARD[1] - 3), 28, outline=(180, 190, 205), width=3)
    label, value = _font(24), _font(30)
    rows = [("姓名", name, 50), ("性别", f"{gender}      民族  {ethnicity}", 115),
            ("出生", f"{born.year} 年 {born.month} 月 {born.day} 日", 180)]
    for caption, text, y in rows:
        draw.text((60, y + 4), caption, font=label, fill=(60, 100, 160))
        draw.text((150, y), text, font=value, fill=INK)
    draw.text((60, 249), "住址", font=label, fill=(60, 100, 160))
    _write(draw, address, 150, 245, 390, 30, 40)
    draw.text((60, 440), "公民身份号码", font=label, fill=(60, 100, 160))
    draw.text((250, 434), id_number, font=_font(34), fill=INK)
    card.paste(portrait, (580, 90))
    _sample_mark(draw, (600, 30))
    return _jpeg(card)


def id_card_back(county_name: str, issued: date) -> bytes:
    card = Image.new("RGB", CARD, (236, 240, 246))
    draw = ImageDraw.Draw(card)
    draw.rounded_rectangle((2, 2, CARD[0] - 3, CARD[1] - 3), 28, outline=(180, 190, 205), width=3)
    draw.ellipse((60, 50, 200, 190), outline=RED, width=6)
    draw.text((260, 70), "中华人民共和国", font=_font(48), fill=INK)
    draw.text((260, 140), "居民身份证", font=_font(60), fill=INK)
    draw.text((120, 360), "签发机关", font=_font(26), fill=FAINT)
    draw.text((260, 354), f"{county_name}公安局", font=_font(30), fill=INK)
    until = issued.replace(year=issued.year + 20)
    draw.text((120, 430), "有效期限", font=_font(26), fill=FAINT)
    draw.text((260, 424), f"{issued:%Y.%m.%d}-{until:%Y.%m.%d}", font=_font(30), fill=INK)
    _sample_mark(draw, (620, 30))
    return _jpeg(card)


def work_proof(name: str, id_number: str, unit_name: str, started: date) -> bytes:
    paper = Image.new("RGB", PAPER, (250, 250, 246))
    draw = ImageDraw.Draw(paper)
    draw.text((PAPER[0] // 2 - 100, 90), "工作证明", font=_font(56), fill=INK)
    body = (f"兹证明 {name}（公民身份号码 {id_number}）自 {started.year} 年 {started.month} 月起"
            f"在我单位从事会计工作，至今在岗。特此证明。")
    _write(draw, body, 90, 240, PAPER[0] - 180, 32, 60)
    draw.text((480, 900), unit_name[:14], font=_font(30), fill=INK)
    draw.text((560, 960), f"{started.year + 10} 年 6 月 1 日", font=_font(30), fill=INK)
    draw.ellipse((500, 820, 760, 1080), outline=RED, width=8)                    # the seal
    draw.regular_polygon((630, 950, 40), 5, fill=RED)
    _sample_mark(draw, (60, 1180))
    return _jpeg(paper)


@cache
def _processed_photo(index: int, rules: ImageRules) -> ProcessedImage:
    return process_id_photo(id_photo(index), rules)


@cache
def _processed_back(county_name: str, rules: ImageRules) -> ProcessedImage:
    return process_document(id_card_back(county_name, date(2016, 3, 1)), rules)


def materials_for(person: dict, rules: ImageRules = ImageRules()) -> dict[str, ProcessedImage]:
    """kind → processed image for one demo applicant (an employed resident ID holder): the
    materials such an application requires (domain.materials.required_materials)."""
    face = int(person["id_number"][:17]) % PORTRAITS
    return {
        "id_photo": _processed_photo(face, rules),
        "id_front": process_document(id_card_front(
            _card_face(face), person["name"], person["id_number"], person["gender"],
            person["ethnicity"], person["born"], person["address"]), rules),
        "id_back": _processed_back(person["county_name"], rules),
        "work_proof": process_document(work_proof(
            person["name"], person["id_number"], person["unit_name"], date(2015, 7, 1)), rules),
    }
