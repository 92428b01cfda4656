"""Pictures for the machine pre-checks (precheck/), made with Pillow and the project's font.

ID card fronts (居民身份证), 学历证书 and 会计专业技术资格证书 photographed on a desk, and 1-inch
photos with 0, 1 or 2 drawn faces. Documents go through the app's own pipeline
(`domain.images.process_document`: ≤ 1600 px, ≤ 200 KB JPEG) and portraits are 295×413 JPEGs of
≤ 20 KB (`encode_within`), so the engines see what the app stores.

Everything is seeded: the same call gives the same bytes. Each picture comes as a `Sample` that
also says what the applicant typed and what a correct check answers, so tests and the bench read
the same truth.

The drawn faces are shaded where a real face is (dark brows and eye sockets over lighter cheeks,
a light nose bridge, a dark mouth): OpenCV's Haar cascade finds them, which plain ellipses with two
dots for eyes do not reliably give.
"""
import io
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont
from stdnum.cn import ric

from domain.images import encode_within, process_document
from tests.images_factory import add_noise

FONT_FILE = Path(__file__).resolve().parent.parent / "data" / "fonts" / "wqy-zenhei-subset.ttf"

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂华建国志红玉兰春梅海云峰波雪琳"
ETHNIC_GROUPS = ["汉", "彝", "白", "哈尼", "傣", "壮", "苗", "回"]
YUNNAN_REGIONS = ["530102", "530103", "530111", "530112", "530302", "530402", "532301",
                  "532501", "532801", "533102"]
ADDRESS_PARTS = ["云南省昆明市五华区", "云南省昆明市盘龙区", "云南省曲靖市麒麟区",
                 "云南省玉溪市红塔区", "云南省楚雄彝族自治州楚雄市"]
STREETS = ["人民中路", "北京路", "青年路", "环城南路", "翠湖北路", "白塔路"]

INK = (25, 25, 30)
LABEL_BLUE = (40, 90, 160)
DESK = (118, 86, 60)
SKIN_TONES = [(200, 150, 120), (225, 180, 150), (170, 120, 90), (235, 195, 170)]
HAIR = (35, 25, 20)
JACKET = (30, 35, 60)
WALL = (246, 246, 244)


@dataclass(frozen=True)
class Sample:
    """A picture, what the applicant typed beside it, and the right answer for the pre-check."""
    kind: str                      # "id_card" | "certificate" | "portrait"
    variant: str                   # e.g. "clear", "wrong_digit", "blurred"
    image: bytes
    typed: dict = field(default_factory=dict)   # id_number + name, or certificate_number + name
    expected: str = "match"        # the status a correct check gives
    shown: dict = field(default_factory=dict)   # what the picture really shows


# People -------------------------------------------------------------------------------------

def id_number(rng: random.Random) -> str:
    """A valid 18-character 居民身份证 number (GB 11643 check digit) for someone born 1960–2000."""
    born = date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 40))
    body = rng.choice(YUNNAN_REGIONS) + born.strftime("%Y%m%d") + f"{rng.randrange(1000):03d}"
    return body + ric.calc_check_digit(body + "0")     # it expects a check character to skip


def with_digit_changed(number: str, position: int, recompute_check: bool = False) -> str:
    """`number` with the character at `position` (0-based) replaced by another one: the next
    digit (or X ↔ 0 for the check character). With recompute_check the check digit is made
    valid again, as on a real card of somebody else."""
    old = number[position]
    if old == "X":
        new = "0"
    elif position == 17 and old == "9":
        new = "X"
    else:
        new = str((int(old) + 1) % 10)
    changed = number[:position] + new + number[position + 1:]
    if recompute_check and position < 17:
        changed = changed[:17] + ric.calc_check_digit(changed)
    return changed


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def other_name(name: str, rng: random.Random) -> str:
    """A name that differs in its last character."""
    choices = [c for c in GIVEN if c != name[-1]]
    return name[:-1] + rng.choice(choices)


def certificate_number(kind: str, rng: random.Random) -> str:
    if kind == "education":
        # 学历证书编号: school code (5), year (4), level (1), serial (8).
        return f"1067{rng.randrange(10)}{rng.randrange(2005, 2024)}0{rng.randrange(10**8):08d}"
    # 会计专业技术资格证书 管理号: year (4), province and region (6), serial (6).
    return f"{rng.randrange(2005, 2024)}53{rng.randrange(10**4):04d}{rng.randrange(10**6):06d}"


# Drawing helpers ------------------------------------------------------------------------------

@lru_cache(maxsize=16)
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_FILE), size)


def _paper(size: tuple[int, int], top: tuple, bottom: tuple) -> Image.Image:
    column = Image.new("RGB", (1, 2))
    column.putpixel((0, 0), top)
    column.putpixel((0, 1), bottom)
    return column.resize(size, Image.Resampling.BILINEAR)


def on_desk(document: Image.Image, angle: float, seed: int, desk_size=(2000, 1500)) -> Image.Image:
    """The document lying on a wooden desk, turned by `angle` degrees, photographed with a
    little lens softness and sensor noise."""
    rng = random.Random(seed)
    desk = _paper(desk_size, DESK, tuple(c - 25 for c in DESK))
    turned = document.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    mask = Image.new("L", document.size, 255).rotate(angle, resample=Image.Resampling.BICUBIC,
                                                     expand=True)
    x = (desk.width - turned.width) // 2 + rng.randint(-30, 30)
    y = (desk.height - turned.height) // 2 + rng.randint(-30, 30)
    desk.paste(turned, (x, y), mask)
    desk = desk.filter(ImageFilter.GaussianBlur(0.8))
    return add_noise(desk, sigma=3.0, seed=seed)


def stored_document(photo: Image.Image) -> bytes:
    """What the app keeps of an uploaded document photo."""
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=92)
    return process_document(buffer.getvalue()).data


def degrade(photo: Image.Image, variant: str, seed: int) -> Image.Image:
    if variant == "blurred":              # a slightly shaky hand: still readable
        return photo.filter(ImageFilter.GaussianBlur(2.0))
    if variant == "unreadable":           # far out of focus: nobody can read it
        return photo.filter(ImageFilter.GaussianBlur(9.0))
    if variant == "low_light":
        dark = ImageEnhance.Brightness(photo).enhance(0.35)
        return add_noise(ImageEnhance.Contrast(dark).enhance(0.8), sigma=4.0, seed=seed + 1)
    if variant == "rotated":              # taken sideways, no EXIF orientation to repair it
        return photo.transpose(Image.Transpose.ROTATE_90 if seed % 2 else
                               Image.Transpose.ROTATE_270)
    return photo


# ID card front ------------------------------------------------------------------------------

def id_card_front(name: str, number: str, rng: random.Random, width: int = 1200) -> Image.Image:
    """The front of a second-generation 居民身份证 (85.6 × 54 mm): labels in blue, values in
    black, the photo on the right, the number along the bottom."""
    height = round(width * 54 / 85.6)
    unit = width / 85.6                                   # pixels per millimetre
    card = _paper((width, height), (232, 238, 242), (214, 226, 232))
    draw = ImageDraw.Draw(card)
    draw.rounded_rectangle((0, 0, width - 1, height - 1), radius=int(unit * 3),
                           outline=(180, 190, 200), width=2)
    label, value = font(int(unit * 2.6)), font(int(unit * 3.2))
    born = ric.get_birth_date(number)
    gender = "男" if int(number[16]) % 2 else "女"
    left, value_x = unit * 6, unit * 17
    rows = [
        (unit * 7, "姓名", name),
        (unit * 14, "性别", f"{gender}        民族  {rng.choice(ETHNIC_GROUPS)}"),
        (unit * 21, "出生", f"{born.year}  年  {born.month}  月  {born.day}  日"),
    ]
    for y, key, text in rows:
        draw.text((left, y), key, font=label, fill=LABEL_BLUE)
        draw.text((value_x, y - unit * 0.3), text, font=value, fill=INK)
    draw.text((left, unit * 28), "住址", font=label, fill=LABEL_BLUE)
    address = rng.choice(ADDRESS_PARTS) + rng.choice(STREETS) + f"{rng.randint(1, 300)}号"
    for line_no, start in enumerate(range(0, len(address), 11)):
        draw.text((value_x, unit * (27.7 + 4.5 * line_no)), address[start:start + 11],
                  font=value, fill=INK)
    draw.text((left, unit * 45), "公民身份号码", font=label, fill=LABEL_BLUE)
    draw.text((unit * 29, unit * 44.5), number, font=font(int(unit * 3.6)), fill=INK)
    # The holder's photo: a grey head on a pale ground.
    box = (unit * 57, unit * 8, unit * 80, unit * 38)
    draw.rectangle(box, fill=(225, 230, 235))
    cx = (box[0] + box[2]) / 2
    draw.ellipse((cx - unit * 6, unit * 12, cx + unit * 6, unit * 28), fill=(170, 150, 140))
    draw.rounded_rectangle((cx - unit * 11, unit * 28, cx + unit * 11, box[3]),
                           radius=int(unit * 4), fill=(60, 60, 70))
    return card


@lru_cache(maxsize=128)
def id_card_sample(seed: int, variant: str = "clear") -> Sample:
    """An ID card front photographed on a desk. Variants: clear, wrong_digit (the card shows
    another valid number one digit away from what was typed), wrong_name, blurred, unreadable,
    rotated (90° one way or the other), tilted (a few degrees), low_light."""
    rng = random.Random(seed)
    name, number = person_name(rng), id_number(rng)
    shown_name, shown_number = name, number
    if variant == "wrong_digit":
        shown_number = with_digit_changed(number, rng.randrange(17), recompute_check=True)
    if variant == "wrong_name":
        shown_name = other_name(name, rng)
    card = id_card_front(shown_name, shown_number, rng)
    angle = rng.uniform(3, 5) * rng.choice((-1, 1)) if variant == "tilted" else rng.uniform(-1, 1)
    photo = degrade(on_desk(card, angle, seed), variant, seed)
    expected = {"wrong_digit": "mismatch", "wrong_name": "mismatch",
                "unreadable": "unreadable"}.get(variant, "match")
    return Sample("id_card", variant, stored_document(photo),
                  typed={"id_number": number, "name": name}, expected=expected,
                  shown={"id_number": shown_number, "name": shown_name})


# Certificates -------------------------------------------------------------------------------

def _seal(paper: Image.Image, centre: tuple[float, float], radius: float, text: str) -> None:
    """A red round seal, slightly see-through like ink."""
    ink = Image.new("L", paper.size, 0)
    draw = ImageDraw.Draw(ink)
    cx, cy = centre
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), outline=170,
                 width=int(radius / 12))
    draw.regular_polygon((cx, cy, radius * 0.3), 5, fill=170)
    draw.text((cx, cy + radius * 0.55), text, font=font(int(radius / 5)), fill=170, anchor="mm")
    paper.paste(Image.new("RGB", paper.size, (200, 30, 40)), (0, 0), ink)


def certificate(kind: str, name: str, number: str, id_no: str, rng: random.Random,
                width: int = 1400) -> Image.Image:
    """A 学历证书 ("education") or 会计专业技术资格证书 ("accounting") page, landscape."""
    height = round(width * 0.7)
    unit = width / 100
    paper = _paper((width, height), (248, 245, 236), (236, 231, 218))
    draw = ImageDraw.Draw(paper)
    draw.rectangle((unit * 2, unit * 2, width - unit * 2, height - unit * 2),
                   outline=(150, 110, 60), width=int(unit * 0.6))
    body = font(int(unit * 2.4))
    born = ric.get_birth_date(id_no)
    if kind == "education":
        title = "普通高等学校毕业证书"
        lines = [f"学生  {name}  ，性别  {'男' if int(id_no[16]) % 2 else '女'}  ，"
                 f"{born.year}年{born.month}月{born.day}日生，",
                 f"于{int(number[5:9]) - 4}年9月至{number[5:9]}年7月在本校会计学专业",
                 "四年制本科学习，修完教学计划规定的全部课程，",
                 "成绩合格，准予毕业。",
                 "校名：云南财经大学        校长：（签名）"]
        number_line = f"证书编号：{number}"
    else:
        title = "会计专业技术资格证书"
        lines = [f"姓名  {name}",
                 f"证件号码  {id_no[:6]}********{id_no[-4:]}",
                 "资格级别  中级      专业  会计",
                 f"批准日期  {number[:4]}年9月",
                 "签发单位  云南省财政厅  人力资源和社会保障厅"]
        number_line = f"管理号：{number}"
    draw.text((width / 2, unit * 9), title, font=font(int(unit * 4.6)), fill=(160, 30, 30),
              anchor="mt")
    y = unit * 20
    for line in lines:
        draw.text((unit * 12, y), line, font=body, fill=INK)
        y += unit * 5.5
    draw.text((unit * 12, height - unit * 12), number_line, font=body, fill=INK)
    _seal(paper, (width * 0.74, height * 0.7), unit * 8, "专用章")
    return paper


@lru_cache(maxsize=128)
def certificate_sample(seed: int, kind: str = "accounting", variant: str = "clear") -> Sample:
    """A certificate photographed on a desk. Variants: clear, wrong_number (one digit of the
    printed number differs from what was typed), wrong_name, blurred, unreadable, tilted,
    low_light."""
    rng = random.Random(seed)
    name, number, id_no = person_name(rng), certificate_number(kind, rng), id_number(rng)
    shown_name, shown_number = name, number
    if variant == "wrong_number":
        position = rng.randrange(len(number))
        shown_number = number[:position] + str((int(number[position]) + 1) % 10) + \
            number[position + 1:]
    if variant == "wrong_name":
        shown_name = other_name(name, rng)
    page = certificate(kind, shown_name, shown_number, id_no, rng)
    angle = rng.uniform(3, 5) * rng.choice((-1, 1)) if variant == "tilted" else rng.uniform(-1, 1)
    photo = degrade(on_desk(page, angle, seed, desk_size=(1800, 1350)), variant, seed)
    expected = {"wrong_number": "mismatch", "wrong_name": "mismatch",
                "unreadable": "unreadable"}.get(variant, "match")
    return Sample("certificate", f"{kind}_{variant}", stored_document(photo),
                  typed={"certificate_number": number, "name": name}, expected=expected,
                  shown={"certificate_number": shown_number, "name": shown_name})


# Portraits (the 1-inch photo) ---------------------------------------------------------------

def draw_face(image: Image.Image, cx: float, cy: float, width: float, skin: tuple) -> None:
    """A frontal face `width` wide centred at (cx, cy), shaded as light falls on a real one."""
    height = width * 1.3
    draw = ImageDraw.Draw(image)
    shadow = tuple(int(c * 0.65) for c in skin)
    light = tuple(min(255, int(c * 1.12)) for c in skin)
    draw.ellipse((cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2), fill=skin)
    draw.chord((cx - width * 0.53, cy - height * 0.56, cx + width * 0.53, cy + height * 0.05),
               180, 360, fill=HAIR)
    eye_y = cy - height * 0.02
    for side in (-1, 1):
        ex = cx + side * width * 0.2
        draw.rectangle((ex - width * 0.12, eye_y - height * 0.09, ex + width * 0.12,
                        eye_y - height * 0.065), fill=(45, 35, 30))            # brow
        draw.ellipse((ex - width * 0.13, eye_y - height * 0.045, ex + width * 0.13,
                      eye_y + height * 0.045), fill=shadow)                     # socket
        draw.ellipse((ex - width * 0.08, eye_y - height * 0.022, ex + width * 0.08,
                      eye_y + height * 0.022), fill=(240, 240, 240))            # white
        draw.ellipse((ex - width * 0.035, eye_y - height * 0.022, ex + width * 0.035,
                      eye_y + height * 0.022), fill=(30, 20, 20))               # iris
    draw.polygon([(cx - width * 0.05, eye_y), (cx + width * 0.05, eye_y),
                  (cx + width * 0.08, cy + height * 0.17), (cx - width * 0.08, cy + height * 0.17)],
                 fill=light)                                                    # nose bridge
    draw.ellipse((cx - width * 0.1, cy + height * 0.15, cx + width * 0.1, cy + height * 0.2),
                 fill=shadow)                                                   # nostrils
    mouth_y = cy + height * 0.29
    draw.ellipse((cx - width * 0.17, mouth_y - height * 0.03, cx + width * 0.17,
                  mouth_y + height * 0.03), fill=(150, 70, 70))
    draw.line((cx - width * 0.16, mouth_y, cx + width * 0.16, mouth_y), fill=(80, 30, 30),
              width=max(1, int(height * 0.01)))


def draw_person(image: Image.Image, cx: float, cy: float, width: float, skin: tuple,
                face: bool = True) -> None:
    """Shoulders, neck and head; with face=False the person has turned away (hair only)."""
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((cx - width * 1.1, cy + width * 0.75, cx + width * 1.1,
                            image.height + 40), radius=int(width * 0.3), fill=JACKET)
    draw.rectangle((cx - width * 0.18, cy + width * 0.5, cx + width * 0.18, cy + width * 0.9),
                   fill=skin)
    if face:
        draw_face(image, cx, cy, width, skin)
    else:
        height = width * 1.3
        draw.ellipse((cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2),
                     fill=HAIR)


@lru_cache(maxsize=128)
def portrait_sample(seed: int, variant: str = "one") -> Sample:
    """A 1-inch photo (295×413, ≤ 20 KB). Variants: one (a centred face), none (the back of a
    head), two (two people side by side), off_centre (one face near the left or right edge),
    small (one face far from the camera)."""
    rng = random.Random(seed)
    image = Image.new("RGB", (295, 413), WALL)
    width = image.width * rng.uniform(0.42, 0.52)
    cy = image.height * 0.4 + rng.uniform(-8, 8)
    jitter = rng.uniform(-5, 5)
    if variant == "two":
        width *= 0.7
        for cx in (0.28, 0.72):
            draw_person(image, image.width * cx + jitter, cy, width, rng.choice(SKIN_TONES))
    elif variant == "off_centre":
        width *= 0.7
        cx = rng.choice((0.24, 0.76))
        draw_person(image, image.width * cx + jitter, cy, width, rng.choice(SKIN_TONES))
    elif variant == "small":
        width = image.width * 0.2
        draw_person(image, image.width * 0.5 + jitter, cy, width, rng.choice(SKIN_TONES))
    else:
        draw_person(image, image.width * 0.5 + jitter, cy, width, rng.choice(SKIN_TONES),
                    face=variant != "none")
    # Softness in proportion to the face, as a lens gives; a fixed blur erases a small face.
    image = image.filter(ImageFilter.GaussianBlur(max(0.6, width / 120)))
    image = add_noise(image, sigma=2.0, seed=seed)
    expected = {"one": "match", "none": "unreadable"}.get(variant, "mismatch")
    faces = {"none": 0, "two": 2}.get(variant, 1)
    return Sample("portrait", variant, encode_within(image, 20 * 1024, min_side=295),
                  expected=expected, shown={"faces": faces})


# Sets -----------------------------------------------------------------------------------------

ID_CARD_VARIANTS = ["clear", "wrong_digit", "wrong_name", "blurred", "unreadable", "rotated",
                    "tilted", "low_light"]
CERTIFICATE_VARIANTS = ["clear", "wrong_number", "wrong_name", "blurred", "unreadable", "tilted",
                        "low_light"]
PORTRAIT_VARIANTS = ["one", "none", "two", "off_centre", "small"]


def all_samples(per_variant: int = 1, first_seed: int = 100) -> list[Sample]:
    """Every variant of every kind, `per_variant` pictures each (different seeds)."""
    samples = []
    for n in range(per_variant):
        seed = first_seed + n
        samples += [id_card_sample(seed, v) for v in ID_CARD_VARIANTS]
        for kind in ("education", "accounting"):
            samples += [certificate_sample(seed, kind, v) for v in CERTIFICATE_VARIANTS]
        samples += [portrait_sample(seed, v) for v in PORTRAIT_VARIANTS]
    return samples
