"""The server's image pipeline. It trusts nothing the client sends.

Every upload is decoded by Pillow as JPEG or PNG only (judged by content, never by name or
Content-Type), with a pixel cap checked from the header before any pixel is decoded. The picture
is turned upright (EXIF orientation), converted to sRGB, stripped of every metadata block (phones
write GPS), re-encoded as JPEG and brought under its size limit by lowering quality, then size.

The 1-inch ID photo (证件照) tool fixes what it can — crop to 295×413, compress to ≤ 20 KB — and
refuses, with a specific message, what it cannot: too few pixels, a background that is not white,
a head that is not where a head should be.
"""
import hashlib
import io
import warnings
from dataclasses import dataclass, field

from PIL import Image, ImageChops, ImageCms, ImageOps, ImageStat

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
QUALITY_HIGH, QUALITY_MID, QUALITY_LOW = 85, 60, 40


@dataclass(frozen=True)
class ImageRules:
    max_pixels: int = 40_000_000
    document_max_side: int = 1600
    document_max_bytes: int = 200 * 1024
    photo_width: int = 295
    photo_height: int = 413
    photo_max_bytes: int = 20 * 1024
    photo_min_width: int = 200
    photo_min_height: int = 280
    thumbnail_side: int = 240

    @classmethod
    def from_config(cls, config) -> "ImageRules":
        return cls(
            max_pixels=config["IMAGE_MAX_PIXELS"],
            document_max_side=config["DOCUMENT_MAX_SIDE"],
            document_max_bytes=config["DOCUMENT_MAX_BYTES"],
            photo_width=config["PHOTO_WIDTH"],
            photo_height=config["PHOTO_HEIGHT"],
            photo_max_bytes=config["PHOTO_MAX_BYTES"],
            photo_min_width=config["PHOTO_MIN_WIDTH"],
            photo_min_height=config["PHOTO_MIN_HEIGHT"],
        )


class ImageRejected(ValueError):
    """The upload cannot be used; the message says why and what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class ProcessedImage:
    data: bytes
    width: int
    height: int
    thumbnail: bytes
    fixes: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


# Decoding -------------------------------------------------------------------------------------

def _describe_unsupported(data: bytes) -> str:
    head = data[:512].lstrip().lower()
    if head.startswith((b"gif87a", b"gif89a")):
        return "不支持GIF格式，请上传JPG或PNG格式的照片"
    if head.startswith(b"<?php") or b"<?php" in head:
        return "这不是图片文件（是程序脚本），请上传JPG或PNG格式的照片"
    if head.startswith((b"<svg", b"<?xml")) or b"<svg" in head:
        return "不支持SVG格式，请上传JPG或PNG格式的照片"
    if head.startswith((b"<!doctype", b"<html")) or b"<html" in head:
        return "这不是图片文件（是网页），请上传JPG或PNG格式的照片"
    if head.startswith(b"%pdf"):
        return "不支持PDF文件，请拍照后上传JPG或PNG格式的照片"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc"):
        return "不支持HEIC格式，请在手机相机设置中选择“兼容性最佳”，或截图后上传"
    if head.startswith((b"riff", b"bm")):
        return "不支持此图片格式，请上传JPG或PNG格式的照片"
    return "无法识别的文件，请上传JPG或PNG格式的照片"


def open_image(data: bytes, rules: ImageRules, draft_size: tuple[int, int] | None = None,
               fit: bool = False):
    """Open and decode, refusing anything that is not a sane JPEG or PNG."""
    if not data:
        raise ImageRejected("文件是空的（0字节），请重新拍摄或选择照片")
    if not (data.startswith(JPEG_MAGIC) or data.startswith(PNG_MAGIC)):
        raise ImageRejected(_describe_unsupported(data))
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=("JPEG", "PNG"))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRejected("照片像素过大，请上传手机相机正常拍摄的照片") from None
        except (OSError, SyntaxError, ValueError):
            raise ImageRejected("照片文件已损坏或不完整，请重新拍摄或选择照片") from None
        width, height = image.size
        if width * height > rules.max_pixels or width <= 0 or height <= 0:
            raise ImageRejected(f"照片像素过大（{width}×{height}），请上传手机相机正常拍摄的照片")
        if image.format in ("JPEG", "MPO") and draft_size:
            image.draft("RGB", _draft_request(image.size, draft_size, fit))
        try:
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRejected("照片像素过大，请上传手机相机正常拍摄的照片") from None
        except (OSError, SyntaxError, ValueError):
            raise ImageRejected("照片文件不完整（可能上传中断），请重新上传") from None
    return image


def _draft_request(size, wanted, fit=False):
    """The size to ask draft() for: the picture scaled to cover `wanted` (with fit: to fit in it),
    keeping its proportions. draft() then decodes at the smallest 1/1–1/8 scale that is at least
    that large."""
    scale = min(1.0, (min if fit else max)(wanted[0] / size[0], wanted[1] / size[1]))
    return (max(1, int(size[0] * scale)), max(1, int(size[1] * scale)))


def to_upright_rgb(image) -> tuple[Image.Image, list[str]]:
    """EXIF orientation applied, colours in sRGB, transparency on white, no metadata."""
    fixes = []
    orientation = image.getexif().get(0x0112, 1)
    if orientation not in (1, None):
        image = ImageOps.exif_transpose(image)
        fixes.append("已自动将照片转正")
    icc = image.info.get("icc_profile")
    if image.mode == "CMYK" and icc:
        image = _icc_to_srgb(image, icc)
    elif image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    elif image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        image = image.point(lambda value: value / 256).convert("L") if image.mode != "F" \
            else image.convert("L")
    elif icc and image.mode == "RGB":
        image = _icc_to_srgb(image, icc)
    image = image if image.mode == "RGB" else image.convert("RGB")
    image.info = {}
    return image, fixes


def _icc_to_srgb(image, icc: bytes):
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"),
                                         outputMode="RGB")
    except (ImageCms.PyCMSError, OSError):
        return image.convert("RGB")


# Encoding -------------------------------------------------------------------------------------

def encode_within(image, max_bytes: int, min_side: int = 0) -> bytes:
    """JPEG under max_bytes: lower the quality first, then the size, never below min_side.
    Few encodes: each one of a 1600 px picture costs tens of milliseconds."""
    while True:
        for quality in (QUALITY_HIGH, QUALITY_MID + 12, QUALITY_MID, QUALITY_LOW):
            data = _jpeg(image, quality)
            if len(data) <= max_bytes:
                return data
        # Still too large at low quality: shrink by the area the size has to lose.
        width, height = image.size
        scale = min(0.9, (max_bytes / len(data)) ** 0.5 * 0.95)
        if min(width, height) * scale < max(min_side, 16):
            raise ImageRejected("照片无法压缩到规定大小，请换一张更清晰简洁的照片")
        image = image.resize((int(width * scale), int(height * scale)),
                             Image.Resampling.BILINEAR)


def _jpeg(image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def thumbnail_of(image, side: int) -> bytes:
    scale = min(1.0, side / max(image.size))        # resize() makes a new image: no copy first
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return _jpeg(image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0), 70)


# Documents ------------------------------------------------------------------------------------

def process_document(data: bytes, rules: ImageRules = ImageRules()) -> ProcessedImage:
    """A document photo (ID card, certificate, …): upright, ≤ 1600 px, ≤ 200 KB, no metadata."""
    side = rules.document_max_side
    image = open_image(data, rules, draft_size=(side, side), fit=True)
    image, fixes = to_upright_rgb(image)
    if max(image.size) > side:
        image.thumbnail((side, side), Image.Resampling.HAMMING)  # 2× LANCZOS speed, text sharp
    encoded = encode_within(image, rules.document_max_bytes, min_side=300)
    width, height = Image.open(io.BytesIO(encoded)).size
    if len(data) > rules.document_max_bytes:
        fixes.append(f"已自动压缩至{_kb(len(encoded))}")
    return ProcessedImage(encoded, width, height, thumbnail_of(image, rules.thumbnail_side),
                          fixes)


# The 1-inch ID photo --------------------------------------------------------------------------

def process_id_photo(data: bytes, rules: ImageRules = ImageRules()) -> ProcessedImage:
    """证件照: cropped to 1-inch proportions, white background, head in place, ≤ 20 KB."""
    # Decode at the smallest JPEG scale that still leaves enough pixels for the crop.
    want = (rules.photo_width * 2, rules.photo_height * 2)
    image = open_image(data, rules, draft_size=want)
    image, fixes = to_upright_rgb(image)
    width, height = image.size
    if width < rules.photo_min_width or height < rules.photo_min_height:
        raise ImageRejected(
            f"照片像素过低（{width}×{height}），至少需要{rules.photo_min_width}×"
            f"{rules.photo_min_height}像素。如果您按原操作手册把照片压缩到了20KB，请改用手机相机"
            "拍摄的原图或相册里的原图上传，系统会自动裁剪、压缩")
    image, cropped = crop_to_ratio(image, rules.photo_width, rules.photo_height)
    if cropped:
        fixes.append(f"已裁剪为1寸比例（{rules.photo_width}×{rules.photo_height}像素）")
    image = image.resize((rules.photo_width, rules.photo_height), Image.Resampling.LANCZOS)
    check_background(image)
    check_head_position(image)
    encoded = encode_within(image, rules.photo_max_bytes, min_side=rules.photo_width)
    final = Image.open(io.BytesIO(encoded))
    if final.size != (rules.photo_width, rules.photo_height):
        raise ImageRejected("照片无法压缩到20KB以内，请换一张背景简洁的照片")
    fixes.append(f"已压缩至{_kb(len(encoded))}（不超过{_kb(rules.photo_max_bytes)}）")
    return ProcessedImage(encoded, final.width, final.height,
                          thumbnail_of(image, rules.thumbnail_side), fixes)


def crop_to_ratio(image, width: int, height: int) -> tuple[Image.Image, bool]:
    """Centre horizontally; keep the top (where the head is) when trimming height."""
    w, h = image.size
    target = width / height
    if abs(w / h - target) < 0.01:
        return image, False
    if w / h > target:
        new_w = round(h * target)
        left = (w - new_w) // 2
        return image.crop((left, 0, left + new_w, h)), True
    new_h = round(w / target)
    top = min((h - new_h) // 4, h - new_h)
    return image.crop((0, top, w, top + new_h)), True


WHITE_MIN_BRIGHTNESS = 200
WHITE_MAX_SPREAD = 30


def _border_boxes(w: int, h: int):
    band = max(4, w // 12)
    top = max(4, h // 14)
    return [(0, 0, w // 4, top), (w - w // 4, 0, w, top),  # above, beside the head's place
            (0, 0, band, h * 2 // 3),                      # left of the face
            (w - band, 0, w, h * 2 // 3)]                  # right of the face


def check_background(image) -> None:
    w, h = image.size
    for box in _border_boxes(w, h):
        stat = ImageStat.Stat(image.crop(box))
        r, g, b = stat.mean
        if min(r, g, b) < WHITE_MIN_BRIGHTNESS or max(r, g, b) - min(r, g, b) > WHITE_MAX_SPREAD:
            raise ImageRejected("背景不是白色：请站在白墙或白布前，光线均匀地重新拍摄")


def check_head_position(image) -> None:
    """A person on a white background: something dark enough must be in the middle, starting
    below the top edge, not too small."""
    w, h = image.size
    gray = image.convert("L")
    subject = ImageChops.invert(gray).point(lambda v: 255 if v > 60 else 0)
    box = subject.getbbox()
    if box is None:
        raise ImageRejected("照片中没有找到人像，请正对镜头拍摄上半身")
    left, top, right, bottom = box
    if top < h * 0.03:
        raise ImageRejected("头顶太靠近照片上边缘，请在头顶上方留出一些空白")
    centre = (left + right) / 2
    if not w * 0.3 <= centre <= w * 0.7:
        raise ImageRejected("人像没有居中，请正对镜头、居中拍摄")
    if (right - left) < w * 0.35 or (bottom - top) < h * 0.45:
        raise ImageRejected("人像太小，请靠近镜头，使头部和肩部占满照片的大部分")


def _kb(size: int) -> str:
    return f"{(size + 1023) // 1024} KB"
