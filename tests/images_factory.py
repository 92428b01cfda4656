"""Test images, made in memory with Pillow alone (no files, no numpy).

Realistic pictures (a 12 MP phone photo of a document, portraits for the 1-inch photo tool) and
hostile or awkward uploads (GIF, SVG with script, HTML, PHP, empty, truncated, a PNG whose header
claims 50000×50000, JPEG/HTML polyglots, CMYK, RGBA, 16-bit, palette with transparency, EXIF
orientations 2–8, GPS + comment + ICC metadata).

Everything is deterministic (seeded) so a failure can be reproduced; the expensive pictures are
cached, so a test module may ask for them as often as it likes. Every function returns `bytes`.
"""
import io
import math
import random
import struct
import zlib
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageChops, ImageCms, ImageDraw, ImageFilter, ImageFont

FONT_FILE = Path(__file__).resolve().parent.parent / "data" / "fonts" / "wqy-zenhei-gbk.ttf"

RED = (220, 20, 20)
WHITE = (255, 255, 255)
NEAR_WHITE = (246, 246, 244)
DARK_BACKGROUND = (40, 60, 110)       # a blue photo-studio backdrop: not a white one
SKIN = (200, 150, 120)
HAIR = (35, 25, 20)
JACKET = (30, 35, 60)

HTML_PAYLOAD = b"<html><script>alert(1)</script></html>"


# Helpers --------------------------------------------------------------------------------------

def encode(image: Image.Image, fmt: str = "JPEG", **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def jpeg(image: Image.Image, quality: int = 92, **params) -> bytes:
    return encode(image, "JPEG", quality=quality, **params)


def png(image: Image.Image, **params) -> bytes:
    return encode(image, "PNG", **params)


def _font(size: int) -> ImageFont.FreeTypeFont:
    if FONT_FILE.exists():
        return ImageFont.truetype(str(FONT_FILE), size)
    return ImageFont.load_default(size=size)


def _noise_band(size: tuple[int, int], sigma: float, rng: random.Random) -> Image.Image:
    """Gaussian-looking sensor noise around 128, from seeded random bytes through a lookup table
    (the inverse normal CDF): fast, and the same every run."""
    lut = []
    for value in range(256):
        p = (value + 0.5) / 256
        lut.append(max(0, min(255, round(128 + sigma * _inverse_normal(p)))))
    raw = rng.randbytes(size[0] * size[1])
    return Image.frombytes("L", size, raw).point(lut)


def _inverse_normal(p: float) -> float:
    """Acklam's rational approximation of the standard normal quantile (good to ~1e-9)."""
    a = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
         1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
    b = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
         6.680131188771011e+01, -1.328068155288572e+01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
         -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
         3.754408661907416e+00)
    if p < 0.02425:
        q = math.sqrt(-2 * math.log(p))
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    if p > 1 - 0.02425:
        return -_inverse_normal(1 - p)
    q = p - 0.5
    r = q * q
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / \
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)


def add_noise(image: Image.Image, sigma: float = 5.0, seed: int = 0) -> Image.Image:
    """Independent mild noise on each channel, as a phone sensor in room light gives."""
    rng = random.Random(seed)
    bands = [ImageChops.add(band, _noise_band(image.size, sigma, rng), scale=1.0, offset=-128)
             for band in image.convert("RGB").split()]
    return Image.merge("RGB", bands)


def _gradient(size: tuple[int, int], top: tuple, bottom: tuple,
              vignette: float = 0.0) -> Image.Image:
    """A smooth vertical colour gradient, darker towards the corners by `vignette` (0–1)."""
    column = Image.new("RGB", (1, 256))
    for y in range(256):
        t = y / 255
        column.putpixel((0, y), tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    image = column.resize(size, Image.Resampling.BILINEAR)
    if vignette:
        radial = Image.radial_gradient("L").resize(size, Image.Resampling.BILINEAR)
        shade = radial.point(lambda v: 255 - round(v * vignette))       # 255 centre, darker out
        image = ImageChops.multiply(image, Image.merge("RGB", [shade] * 3))
    return image


# Realistic pictures ---------------------------------------------------------------------------

@lru_cache(maxsize=4)
def camera_document(width: int = 4000, height: int = 3000, seed: int = 1,
                    quality: int = 92) -> bytes:
    """A 12 MP phone photo of a certificate lying on a desk: a wooden-brown gradient, a slightly
    rotated sheet of paper under uneven light, printed Chinese text, ruled lines, a table, a red
    seal, and sensor noise. About 2–5 MB as a quality-92 JPEG, like a real one."""
    rng = random.Random(seed)
    image = _gradient((width, height), (122, 88, 60), (92, 64, 44), vignette=0.25)
    paper_w, paper_h = int(width * 0.72), int(height * 0.86)
    paper = _gradient((paper_w, paper_h), (246, 244, 236), (226, 222, 212))
    draw = ImageDraw.Draw(paper)
    unit = paper_w / 100
    title = _font(int(unit * 4.5))
    body = _font(int(unit * 1.9))
    draw.text((paper_w / 2, unit * 6), "会计专业技术资格证书", font=title, fill=(20, 20, 20),
              anchor="mt")
    words = "兹证明持证人通过全国统一考试成绩合格特发此证书以资证明姓名性别出生日期证件号码" \
            "资格级别专业管理号批准日期签发单位云南省财政厅人力资源和社会保障厅"
    y = unit * 16
    while y < paper_h * 0.62:
        line = "".join(rng.choice(words) for _ in range(rng.randint(18, 30)))
        draw.text((unit * 8, y), line, font=body, fill=(35, 35, 40))
        y += unit * 3.2
    # A table with ruled lines, filled in.
    top, left, right = paper_h * 0.64, unit * 8, paper_w - unit * 8
    rows, row_h = 6, unit * 3.6
    for r in range(rows + 1):
        draw.line((left, top + r * row_h, right, top + r * row_h), fill=(30, 30, 30),
                  width=max(2, int(unit / 4)))
    for x in (left, left + (right - left) * 0.3, right):
        draw.line((x, top, x, top + rows * row_h), fill=(30, 30, 30), width=max(2, int(unit / 4)))
    for r in range(rows):
        draw.text((left + unit, top + r * row_h + unit * 0.8), rng.choice(
            ["姓名", "证件号码", "资格级别", "专业", "管理号", "批准日期"]), font=body, fill=(30, 30, 30))
        draw.text((left + (right - left) * 0.3 + unit, top + r * row_h + unit * 0.8),
                  "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(18)),
                  font=body, fill=(20, 20, 80))
    # A red seal over the bottom right, slightly see-through like ink.
    seal = Image.new("L", paper.size, 0)
    cx, cy, radius = paper_w * 0.74, paper_h * 0.5, unit * 9
    seal_draw = ImageDraw.Draw(seal)
    seal_draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), outline=170,
                      width=int(unit * 0.8))
    seal_draw.regular_polygon((cx, cy, radius * 0.35), 5, fill=170)
    paper.paste(Image.new("RGB", paper.size, (200, 30, 40)), (0, 0), seal)
    paper = paper.rotate(2.5, resample=Image.Resampling.BICUBIC, expand=True,
                         fillcolor=(0, 0, 0))
    mask = Image.new("L", (paper_w, paper_h), 255).rotate(
        2.5, resample=Image.Resampling.BICUBIC, expand=True)
    # A soft shadow under the sheet, then the sheet.
    shadow = mask.filter(ImageFilter.BoxBlur(int(unit)))
    offset = ((width - paper.width) // 2, (height - paper.height) // 2)
    image.paste(Image.new("RGB", paper.size, (50, 35, 25)),
                (offset[0] + int(unit), offset[1] + int(unit)), shadow.point(lambda v: v * 2 // 3))
    image.paste(paper, offset, mask)
    # Uneven light: a lamp on the left.
    light = _gradient((width, height), (255, 255, 255), (255, 255, 255))
    ramp = Image.linear_gradient("L").rotate(90).resize((width, height)).point(
        lambda v: 255 - v // 8)
    light = ImageChops.multiply(light, Image.merge("RGB", [ramp] * 3))
    image = ImageChops.multiply(image, light)
    image = image.filter(ImageFilter.GaussianBlur(0.7))               # lens softness
    image = add_noise(image, sigma=4.0, seed=seed)
    return jpeg(image, quality=quality)


def portrait_image(width: int = 3000, height: int = 4000, background=NEAR_WHITE,
                   centre_x: float = 0.5, head_scale: float = 1.0, shoulder_width: float = 0.62,
                   noise: float = 0.0, seed: int = 2) -> Image.Image:
    """A person facing the camera: a head (ellipse with hair) centred in the upper half at
    `centre_x` of the width, shoulders (a jacket, `shoulder_width` of the picture's width at full
    scale) below. `head_scale` < 1 makes the person small."""
    image = Image.new("RGB", (width, height), background)
    if noise:
        # A real wall is never flat: a faint vertical light gradient.
        light = tuple(max(0, c - 10) for c in background)
        image = _gradient((width, height), background, light)
    draw = ImageDraw.Draw(image)
    cx = width * centre_x
    head_w, head_h = width * 0.30 * head_scale, height * 0.30 * head_scale
    head_top = height * 0.14 if head_scale >= 1 else height * 0.5 - head_h
    head = (cx - head_w / 2, head_top, cx + head_w / 2, head_top + head_h)
    shoulder_top = head[3] - head_h * 0.05
    shoulder_w = width * shoulder_width * head_scale
    draw.rounded_rectangle((cx - shoulder_w / 2, shoulder_top, cx + shoulder_w / 2,
                            height + width * 0.2), radius=int(shoulder_w * 0.25), fill=JACKET)
    neck_w = head_w * 0.38
    draw.rectangle((cx - neck_w / 2, head[3] - head_h * 0.2, cx + neck_w / 2,
                    shoulder_top + head_h * 0.1), fill=SKIN)
    draw.ellipse(head, fill=SKIN)
    draw.chord((head[0] - head_w * 0.02, head[1] - head_h * 0.04, head[2] + head_w * 0.02,
                head[1] + head_h * 0.55), 180, 360, fill=HAIR)
    eye_y = head[1] + head_h * 0.48
    for side in (-1, 1):
        ex = cx + side * head_w * 0.2
        draw.ellipse((ex - head_w * 0.06, eye_y - head_h * 0.025, ex + head_w * 0.06,
                      eye_y + head_h * 0.025), fill=(30, 25, 25))
    draw.line((cx - head_w * 0.15, head[1] + head_h * 0.78, cx + head_w * 0.15,
               head[1] + head_h * 0.78), fill=(150, 70, 70), width=max(1, int(head_h * 0.02)))
    if noise:
        image = add_noise(image, sigma=noise, seed=seed)
    return image


@lru_cache(maxsize=8)
def portrait(width: int = 3000, height: int = 4000, background=NEAR_WHITE,
             centre_x: float = 0.5, head_scale: float = 1.0, shoulder_width: float = 0.62,
             noise: float = 5.0, quality: int = 92) -> bytes:
    """A portrait as a phone would send it (JPEG, with a little noise)."""
    return jpeg(portrait_image(width, height, background, centre_x, head_scale, shoulder_width,
                               noise=noise), quality=quality)


def portrait_12mp() -> bytes:
    """The 1-inch photo's realistic input: a 3000×4000 phone portrait on a near-white wall."""
    return portrait(3000, 4000)


def portrait_dark_background() -> bytes:
    return portrait(3000, 4000, background=DARK_BACKGROUND)


def portrait_tiny() -> bytes:
    """100×140: far too few pixels for a 295×413 photo."""
    return portrait(100, 140, noise=0.0)


def portrait_off_centre() -> bytes:
    """The whole person stands to the right, narrow-shouldered (turned sideways), so the
    picture's edges stay white and only the position is wrong."""
    return portrait(1500, 2000, centre_x=0.73, shoulder_width=0.3, noise=0.0)


def portrait_small_head() -> bytes:
    """The person is far from the camera: a small head and shoulders in the middle."""
    return portrait(1500, 2000, head_scale=0.35, noise=0.0)


# Hostile and unsupported uploads (all sent as "photo.jpg") ---------------------------------

def gif() -> bytes:
    image = Image.new("P", (64, 64), 0)
    ImageDraw.Draw(image).rectangle((8, 8, 40, 40), fill=1)
    return encode(image, "GIF")


def svg_with_script() -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8"?>\n'
            b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
            b'<script type="text/javascript">alert(document.cookie)</script>'
            b'<rect width="100" height="100" fill="red"/></svg>\n')


def html_page() -> bytes:
    return (b"<!DOCTYPE html>\n<html><head><title>x</title></head><body>"
            b"<script>fetch('/collection').then(r => r.text())</script></body></html>\n")


def php_script() -> bytes:
    return b"<?php system($_GET['cmd']); ?>\n"


def empty() -> bytes:
    return b""


def truncated_jpeg() -> bytes:
    """A photo whose upload stopped half-way."""
    data = camera_document(1600, 1200)
    return data[: len(data) // 2]


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + \
        struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_claiming(width: int = 50000, height: int = 50000) -> bytes:
    """A hand-made PNG whose IHDR (valid CRC) claims width×height RGB pixels, with a tiny IDAT:
    a decoder that trusts the header would allocate width×height×3 bytes (7.5 GB here)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" + b"\x00" * 3 * 4, 9)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + \
        png_chunk(b"IEND", b"")


def small_jpeg(size=(400, 300), color=(120, 160, 200)) -> bytes:
    image = Image.new("RGB", size, color)
    ImageDraw.Draw(image).rectangle((20, 20, 120, 90), fill=RED)
    return jpeg(image)


def polyglot_appended() -> bytes:
    """A valid JPEG with an HTML page after its end: a browser sniffing it might run it."""
    return small_jpeg() + HTML_PAYLOAD


def polyglot_comment() -> bytes:
    """A valid JPEG carrying the HTML page inside its COM segment (near the start of the file)."""
    return jpeg(Image.open(io.BytesIO(small_jpeg())), comment=HTML_PAYLOAD)


# Awkward but acceptable pictures -----------------------------------------------------------

def cmyk_jpeg() -> bytes:
    image = Image.new("CMYK", (600, 400), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((0, 0, 200, 150), fill=(0, 255, 255, 0))   # red
    return jpeg(image)


def rgba_png() -> bytes:
    """A cut-out: transparent around a half-transparent red block (screenshots, scans)."""
    image = Image.new("RGBA", (500, 400), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 150, 120), fill=(220, 20, 20, 255))
    draw.rectangle((200, 200, 400, 350), fill=(0, 0, 200, 128))
    return png(image)


def png_16bit() -> bytes:
    """16-bit greyscale (a scanner's output): a horizontal ramp over the full 0–65535 range."""
    width, height = 512, 256
    image = Image.new("I;16", (width, height))
    row = b"".join(struct.pack("<H", x * 65535 // (width - 1)) for x in range(width))
    image.frombytes(row * height)
    return png(image)


def palette_png() -> bytes:
    """Palette image with a transparent index (index 0) around a red block."""
    image = Image.new("P", (400, 300), 0)
    image.putpalette([0, 0, 0, 220, 20, 20, 20, 20, 200] + [0] * (256 - 3) * 3)
    ImageDraw.Draw(image).rectangle((0, 0, 120, 90), fill=1)
    ImageDraw.Draw(image).rectangle((200, 150, 300, 250), fill=2)
    return png(image, transparency=0)


# EXIF orientation -----------------------------------------------------------------------------

# What a viewer does to the stored pixels for each orientation value (as ImageOps.exif_transpose).
ORIENTATION_TRANSFORMS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_INVERSE = {Image.Transpose.ROTATE_90: Image.Transpose.ROTATE_270,
            Image.Transpose.ROTATE_270: Image.Transpose.ROTATE_90}

UPRIGHT_SIZE = (480, 320)          # landscape: a transposed result would show as 320×480
RED_CORNER = (0, 0, 120, 80)       # the red block, top-left of the upright picture


def upright_marker() -> Image.Image:
    """White, with a red block in the top-left corner: each of the 8 orientations puts it in a
    different place (corner × landscape/portrait), so 'upright' can be read from the pixels."""
    image = Image.new("RGB", UPRIGHT_SIZE, WHITE)
    ImageDraw.Draw(image).rectangle((RED_CORNER[0], RED_CORNER[1], RED_CORNER[2] - 1,
                                     RED_CORNER[3] - 1), fill=RED)
    return image


def oriented_jpeg(orientation: int, picture: Image.Image | None = None) -> bytes:
    """The picture as a camera held at an angle stores it: pixels turned by the inverse of the
    orientation's transform, and EXIF 0x0112 telling the viewer how to put it right."""
    picture = picture or upright_marker()
    transform = ORIENTATION_TRANSFORMS[orientation]
    stored = picture.transpose(_INVERSE.get(transform, transform))
    exif = Image.Exif()
    exif[0x0112] = orientation
    return jpeg(stored, exif=exif.tobytes())


# Metadata -------------------------------------------------------------------------------------

GPS_IFD = 0x8825
COMMENT = b"Shot at home, Kunming"


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def jpeg_with_metadata(picture: Image.Image | None = None) -> bytes:
    """A phone photo as it leaves the phone: EXIF (make, model, date, GPS position in Kunming),
    a comment and an ICC profile. `picture` defaults to a blue-grey card with a red corner."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"                  # Make
    exif[0x0110] = "Phone 15"                    # Model
    exif[0x0132] = "2026:01:15 10:30:00"         # DateTime
    exif[0x0112] = 1
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (25.0, 2.0, 30.5)
    gps[3] = "E"
    gps[4] = (102.0, 42.0, 15.25)
    image = picture
    if image is None:
        image = Image.new("RGB", (800, 600), (180, 200, 220))
        ImageDraw.Draw(image).rectangle((0, 0, 200, 150), fill=RED)
    return jpeg(image, exif=exif.tobytes(), comment=COMMENT, icc_profile=srgb_icc())
