"""domain/images.py without the web: what is refused (and with which words), what is repaired,
and what comes out — a fresh JPEG, upright, in sRGB, without a byte of the upload's metadata,
within its size rules; the 1-inch ID photo at exactly 295×413 and ≤ 20 KB, or a specific reason.

The pictures come from tests/images_factory.py."""
import io
import math
import time
import tracemalloc
import zlib

import pytest
from PIL import Image, ImageChops, ImageFile, ImageStat

from domain import images
from domain.images import ImageRejected, ImageRules, open_image, process_document, process_id_photo
from tests import images_factory as factory

RULES = ImageRules()
PIPELINES = [pytest.param(process_document, id="document"),
             pytest.param(process_id_photo, id="id_photo")]


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def near(colour, expected, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected, strict=True))


def is_red(colour) -> bool:
    return near(colour, factory.RED, 45)


def is_white(colour) -> bool:
    return min(colour) >= 235


def assert_fresh_jpeg(data: bytes):
    """A baseline JPEG we wrote: SOI … EOI, nothing after it, no metadata at all."""
    assert data[:3] == b"\xff\xd8\xff"
    assert data[-2:] == b"\xff\xd9"
    image = decoded(data)
    assert image.format == "JPEG" and image.mode == "RGB"
    for key in ("exif", "icc_profile", "comment", "xmp", "photoshop", "adobe"):
        assert key not in image.info, key
    assert len(image.getexif()) == 0
    # Only JFIF (APP0), tables and the frame before the scan: no APP1 (EXIF/XMP), APP2 (ICC),
    # APP13 (IPTC), APP14 (Adobe) or COM segment.
    assert set(_markers(data)) <= {0xE0, 0xDB, 0xC4, 0xC0, 0xC2, 0xDD, 0xDA}, \
        [hex(m) for m in _markers(data)]
    assert b"Exif\x00\x00" not in data and b"ICC_PROFILE" not in data
    assert b"http://ns.adobe.com/xap" not in data and b"Photoshop 3.0" not in data
    return image


def _markers(data: bytes) -> list[int]:
    """The marker of each segment from SOI up to and including the first SOS."""
    markers, position = [], 2
    while position + 4 <= len(data):
        assert data[position] == 0xFF, f"not a marker at {position}"
        marker = data[position + 1]
        markers.append(marker)
        if marker == 0xDA:
            break
        position += 2 + int.from_bytes(data[position + 2:position + 4], "big")
    return markers


# Refused, each with its own words -------------------------------------------------------------

REFUSED = [
    pytest.param(factory.gif, ["GIF"], id="gif"),
    pytest.param(factory.svg_with_script, ["SVG"], id="svg-with-script"),
    pytest.param(factory.html_page, ["网页"], id="html"),
    pytest.param(factory.php_script, ["脚本"], id="php"),
    pytest.param(factory.empty, ["0字节", "空"], id="zero-bytes"),
]


@pytest.mark.parametrize("pipeline", PIPELINES)
@pytest.mark.parametrize("make, words", REFUSED)
def test_not_an_image_is_refused_with_its_reason(pipeline, make, words):
    with pytest.raises(ImageRejected) as refused:
        pipeline(make(), RULES)
    for word in words:
        assert word in refused.value.message
    assert "JPG" in refused.value.message or "重新" in refused.value.message   # what to do


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_truncated_jpeg_is_refused_as_incomplete(pipeline):
    with pytest.raises(ImageRejected) as refused:
        pipeline(factory.truncated_jpeg(), RULES)
    assert "不完整" in refused.value.message or "损坏" in refused.value.message


def test_garbage_after_a_jpeg_magic_is_refused_as_damaged():
    with pytest.raises(ImageRejected) as refused:
        process_document(b"\xff\xd8\xff" + b"\x00garbage" * 20)
    assert "损坏" in refused.value.message or "不完整" in refused.value.message


def test_png_claiming_50000_by_50000_is_refused_from_its_header(monkeypatch):
    data = factory.png_claiming(50000, 50000)
    assert len(data) < 200

    def no_pixels(self):
        raise AssertionError("a pixel buffer was about to be allocated")

    monkeypatch.setattr(ImageFile.ImageFile, "load_prepare", no_pixels)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        for pipeline in (process_document, process_id_photo):
            with pytest.raises(ImageRejected) as refused:
                pipeline(data, RULES)
            assert "像素过大" in refused.value.message
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 0.5
    assert peak < 1024 * 1024


def test_the_50000_png_is_well_formed():
    """Valid signature and chunk CRCs, so it is the size that is refused, not a broken file."""
    data = factory.png_claiming(50000, 50000)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    position, kinds = 8, []
    while position < len(data):
        length = int.from_bytes(data[position:position + 4], "big")
        kind, body = data[position + 4:position + 8], data[position + 8:position + 8 + length]
        crc = int.from_bytes(data[position + 8 + length:position + 12 + length], "big")
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, kind
        kinds.append(kind)
        position += 12 + length
    assert kinds == [b"IHDR", b"IDAT", b"IEND"]
    assert Image.open(io.BytesIO(factory.png_claiming(40, 30))).size == (40, 30)


@pytest.mark.parametrize("make", [
    pytest.param(lambda: factory.png_claiming(7000, 7000), id="png-7000x7000"),
    pytest.param(lambda: _jpeg_claiming(8000, 6000), id="jpeg-8000x6000"),
])
def test_over_our_own_pixel_cap_is_refused_from_the_header(monkeypatch, make):
    """Under Pillow's bomb threshold (89 MP) but over IMAGE_MAX_PIXELS (40 MP): our check."""
    monkeypatch.setattr(ImageFile.ImageFile, "load_prepare", lambda self: pytest.fail("decoded"))
    with pytest.raises(ImageRejected) as refused:
        process_document(make(), RULES)
    assert "像素过大" in refused.value.message
    assert "×" in refused.value.message


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose SOF0 header is rewritten to claim width×height."""
    data = bytearray(factory.small_jpeg((64, 48)))
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(data)


def test_pixel_cap_comes_from_the_rules():
    with pytest.raises(ImageRejected, match="像素过大"):
        process_document(factory.small_jpeg((400, 300)), ImageRules(max_pixels=100_000))
    assert process_document(factory.small_jpeg((400, 300)), ImageRules(max_pixels=120_000))


def test_rules_from_config(app):
    rules = ImageRules.from_config(app.config)
    assert (rules.photo_width, rules.photo_height, rules.photo_max_bytes) == (295, 413, 20 * 1024)
    assert (rules.document_max_side, rules.document_max_bytes) == (1600, 200 * 1024)
    assert rules.max_pixels == app.config["IMAGE_MAX_PIXELS"]


# Polyglots: accepted, but only the picture survives --------------------------------------------

@pytest.mark.parametrize("make", [factory.polyglot_appended, factory.polyglot_comment],
                         ids=["html-after-eoi", "html-in-com-segment"])
def test_jpeg_html_polyglot_comes_out_as_a_fresh_jpeg_without_the_html(make):
    data = make()
    assert factory.HTML_PAYLOAD in data
    result = process_document(data, RULES)
    for blob in (result.data, result.thumbnail):
        assert b"<html" not in blob.lower() and b"script" not in blob.lower()
        assert_fresh_jpeg(blob)
    assert result.data != data
    assert (result.width, result.height) == (400, 300)
    assert is_red(decoded(result.data).getpixel((40, 40)))


# Colour modes: converted, accepted --------------------------------------------------------------

def test_cmyk_jpeg_becomes_rgb():
    source = Image.open(io.BytesIO(factory.cmyk_jpeg()))
    assert source.mode == "CMYK"
    image = assert_fresh_jpeg(process_document(factory.cmyk_jpeg(), RULES).data)
    assert is_red(image.getpixel((50, 50)))
    assert is_white(image.getpixel((400, 300)))


def test_rgba_png_goes_on_white():
    assert Image.open(io.BytesIO(factory.rgba_png())).mode == "RGBA"
    image = assert_fresh_jpeg(process_document(factory.rgba_png(), RULES).data)
    assert is_red(image.getpixel((50, 50)))
    assert is_white(image.getpixel((300, 50)))                      # transparent → white
    assert near(image.getpixel((300, 300)), (127, 127, 227), 20)   # half blue over white


def test_16_bit_png_keeps_its_tones():
    assert Image.open(io.BytesIO(factory.png_16bit())).mode == "I;16"
    image = assert_fresh_jpeg(process_document(factory.png_16bit(), RULES).data)
    assert image.size == (512, 256)
    left, middle, right = (image.getpixel((x, 128)) for x in (2, 256, 509))
    assert max(left) <= 12 and min(right) >= 243
    assert all(110 <= c <= 145 for c in middle)                    # not clipped to black/white


def test_palette_png_with_transparency_goes_on_white():
    source = Image.open(io.BytesIO(factory.palette_png()))
    assert source.mode == "P" and "transparency" in source.info
    image = assert_fresh_jpeg(process_document(factory.palette_png(), RULES).data)
    assert is_red(image.getpixel((40, 40)))
    assert is_white(image.getpixel((350, 50)))
    assert near(image.getpixel((250, 200)), (20, 20, 200), 40)


# EXIF orientation -----------------------------------------------------------------------------

CORNERS = {"top-left": (8, 8), "top-right": (-9, 8), "bottom-left": (8, -9),
           "bottom-right": (-9, -9)}


def corner_colours(image):
    w, h = image.size
    return {name: image.getpixel((x % w, y % h)) for name, (x, y) in CORNERS.items()}


@pytest.mark.parametrize("orientation", range(2, 9))
def test_exif_orientation_is_applied(orientation):
    data = factory.oriented_jpeg(orientation)
    stored = Image.open(io.BytesIO(data))
    assert stored.getexif()[0x0112] == orientation
    result = process_document(data, RULES)
    image = assert_fresh_jpeg(result.data)
    assert image.size == factory.UPRIGHT_SIZE == (result.width, result.height)
    corners = corner_colours(image)
    assert is_red(corners.pop("top-left")), corners
    assert all(is_white(c) for c in corners.values()), corners
    # The block is where it was drawn, not just some red in the corner.
    assert is_red(image.getpixel((factory.RED_CORNER[2] - 8, factory.RED_CORNER[3] - 8)))
    assert is_white(image.getpixel((factory.RED_CORNER[2] + 8, factory.RED_CORNER[3] + 8)))
    assert any("转正" in fix for fix in result.fixes)


def test_upright_picture_is_left_alone():
    result = process_document(factory.jpeg(factory.upright_marker()), RULES)
    image = decoded(result.data)
    assert image.size == factory.UPRIGHT_SIZE
    assert is_red(image.getpixel((8, 8)))
    assert not any("转正" in fix for fix in result.fixes)


def test_id_photo_taken_sideways_is_turned_before_the_head_is_looked_for():
    picture = factory.portrait_image(1200, 1600)
    result = process_id_photo(factory.oriented_jpeg(6, picture), RULES)
    assert (result.width, result.height) == (295, 413)
    assert any("转正" in fix for fix in result.fixes)


# Metadata -------------------------------------------------------------------------------------

def test_the_metadata_fixture_really_has_metadata():
    source = Image.open(io.BytesIO(factory.jpeg_with_metadata()))
    assert {"exif", "icc_profile", "comment"} <= set(source.info)
    assert source.getexif().get_ifd(factory.GPS_IFD)[1] == "N"


@pytest.mark.parametrize("pipeline, picture", [
    pytest.param(process_document, None, id="document"),
    pytest.param(process_id_photo, lambda: factory.portrait_image(1200, 1600), id="id_photo"),
])
def test_output_carries_no_metadata(pipeline, picture):
    data = factory.jpeg_with_metadata(picture() if picture else None)
    result = pipeline(data, RULES)
    for blob in (result.data, result.thumbnail):
        image = assert_fresh_jpeg(blob)
        assert not {"exif", "icc_profile", "comment"} & set(image.info)
        assert len(image.getexif()) == 0
        for trace in (b"PhoneMaker", b"Phone 15", b"2026:01:15", factory.COMMENT, b"acsp"):
            assert trace not in blob


# Documents ------------------------------------------------------------------------------------

def test_12mp_camera_document_within_200kb_and_1600px():
    data = factory.camera_document()
    assert 2_000_000 <= len(data) <= 5_000_000
    assert Image.open(io.BytesIO(data)).size == (4000, 3000)
    result = process_document(data, RULES)
    image = assert_fresh_jpeg(result.data)
    assert result.size == len(result.data) <= 200 * 1024
    assert max(image.size) <= 1600
    assert image.size == (result.width, result.height) == (1600, 1200)   # proportions kept
    assert any("压缩" in fix for fix in result.fixes)
    thumb = decoded(result.thumbnail)
    assert max(thumb.size) <= 240 and thumb.size[0] / thumb.size[1] == pytest.approx(4 / 3, 0.02)
    assert len(result.sha256) == 64


def test_12mp_document_stays_faithful_to_the_photo():
    """Decoding at 1/2, the resampling filter and the JPEG quality together still give a picture
    close to a careful full-resolution LANCZOS reduction (PSNR; text stays legible)."""
    full = decoded(factory.camera_document())
    reference = full.resize((1600, 1200), Image.Resampling.LANCZOS)
    result = decoded(process_document(factory.camera_document(), RULES).data)
    difference = ImageChops.difference(reference, result)
    mse = sum(rms * rms for rms in ImageStat.Stat(difference).rms) / 3
    assert 10 * math.log10(255 ** 2 / mse) >= 32


def test_portrait_document_keeps_its_orientation():
    result = process_document(factory.portrait(1500, 2000), RULES)
    assert (result.width, result.height) == (1200, 1600)


def test_small_document_is_only_re_encoded():
    result = process_document(factory.small_jpeg((800, 600)), RULES)
    assert (result.width, result.height) == (800, 600)
    assert not any("压缩" in fix for fix in result.fixes)


def test_incompressible_document_is_shrunk_until_it_fits():
    """Pure noise does not fit 200 KB even at the lowest quality: the size goes down instead."""
    noise = Image.frombytes("RGB", (1600, 1200), __import__("random").Random(5).randbytes(
        1600 * 1200 * 3))
    result = process_document(factory.png(noise), RULES)
    assert len(result.data) <= 200 * 1024
    assert 300 <= min(result.width, result.height) and max(result.width, result.height) < 1600
    assert decoded(result.data).size == (result.width, result.height)


@pytest.fixture
def decoded_sizes(monkeypatch):
    """The size each picture was decoded at, as the pipeline receives it from open_image."""
    sizes = []
    real = images.to_upright_rgb

    def spy(image):
        sizes.append(image.size)
        return real(image)

    monkeypatch.setattr(images, "to_upright_rgb", spy)
    return sizes


def test_12mp_jpeg_is_decoded_at_reduced_scale(decoded_sizes):
    """The document needs 1600 px on its long side: a 4000×3000 JPEG is decoded at 1/2
    (2000×1500), not in full. (Asking for the short side to reach 1600 decoded all 12 MP.)"""
    process_document(factory.camera_document(), RULES)
    process_document(factory.portrait(3000, 4000), RULES)
    assert decoded_sizes == [(2000, 1500), (1500, 2000)]


def test_id_photo_draft_still_covers_its_crop():
    image = open_image(factory.portrait_12mp(), RULES, draft_size=(590, 826))
    assert image.size == (750, 1000)


def test_mpo_from_a_phone_is_decoded_at_reduced_scale_too(decoded_sizes):
    """Many phones write MPO (a JPEG with extra frames); Pillow reports it as 'MPO'."""
    source = decoded(factory.camera_document())
    buffer = io.BytesIO()
    source.save(buffer, "MPO", save_all=True, append_images=[source.resize((400, 300))],
                quality=90)
    assert Image.open(io.BytesIO(buffer.getvalue())).format == "MPO"
    result = process_document(buffer.getvalue(), RULES)
    assert decoded_sizes == [(2000, 1500)]
    assert (result.width, result.height) == (1600, 1200)
    assert_fresh_jpeg(result.data)


# The 1-inch ID photo --------------------------------------------------------------------------

def test_id_photo_from_a_12mp_portrait():
    result = process_id_photo(factory.portrait_12mp(), RULES)
    image = assert_fresh_jpeg(result.data)
    assert image.size == (result.width, result.height) == (295, 413)
    assert len(result.data) == result.size <= 20 * 1024
    assert any("裁剪" in fix for fix in result.fixes)
    assert any("压缩" in fix for fix in result.fixes)
    # Still a person on white: white above the head and at the sides, a dark jacket below.
    assert is_white(image.getpixel((147, 10)))
    assert is_white(image.getpixel((8, 100))) and is_white(image.getpixel((286, 100)))
    assert max(image.getpixel((147, 400))) < 100


def test_id_photo_already_in_proportion_is_not_cropped():
    picture = factory.portrait_image(590, 826)
    result = process_id_photo(factory.jpeg(picture), RULES)
    assert (result.width, result.height) == (295, 413)
    assert not any("裁剪" in fix for fix in result.fixes)


@pytest.mark.parametrize("make, words", [
    pytest.param(factory.portrait_tiny, "像素过低", id="100x140"),
    pytest.param(factory.portrait_dark_background, "背景不是白色", id="dark-background"),
    pytest.param(factory.portrait_off_centre, "没有居中", id="off-centre"),
    pytest.param(factory.portrait_small_head, "太小", id="small-head"),
])
def test_id_photo_refusals(make, words):
    with pytest.raises(ImageRejected) as refused:
        process_id_photo(make(), RULES)
    assert words in refused.value.message


def test_id_photo_with_nobody_in_it():
    with pytest.raises(ImageRejected, match="没有找到人像"):
        process_id_photo(factory.jpeg(Image.new("RGB", (600, 800), factory.NEAR_WHITE)), RULES)


@pytest.mark.parametrize("shift", [160, 200], ids=["head-at-the-edge", "head-cut-off"])
def test_id_photo_with_the_head_at_the_top_edge(shift):
    """The person is told about the head, not about a background that is in fact white. (The
    background check used to look at the whole top band, so a full-size head reaching the top
    edge was refused as 背景不是白色 and the 头顶 message could not be reached.)"""
    picture = factory.portrait_image(900, 1200)                  # head top at 168 px
    moved = Image.new("RGB", picture.size, factory.NEAR_WHITE)
    moved.paste(picture.crop((0, shift, 900, 1200)), (0, 0))
    with pytest.raises(ImageRejected, match="头顶太靠近"):
        process_id_photo(factory.jpeg(moved), RULES)


def test_the_same_portrait_is_acceptable_as_a_document():
    """The ID photo checks apply to the ID photo only."""
    result = process_document(factory.portrait_dark_background(), RULES)
    assert max(result.width, result.height) == 1600
