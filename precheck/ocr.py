"""The OCR engine: RapidOCR, running the PP-OCRv4 models shipped inside its wheel on onnxruntime
(nothing is downloaded at run time). The only module that imports rapidocr_onnxruntime.

The engine loads once per process, on first use, and is kept: a worker reads many pictures.

Settings, measured on the generated documents (bench/precheck_bench.py, 2 cores):
- `max_side_len=960`: the picture is scaled so its longer side is at most 960 px before
  detection and recognition. rapidocr 1.4.4 otherwise detects at full size — its own
  `det_limit_side_len` is ignored for `det_limit_type="max"` and only ever enlarges for "min" —
  and a 1600 px document then peaks near 600 MB of memory; at 960 px the worker stays under
  400 MB, takes about half the time, and reads the same text on our documents.
- `det_limit_type="max"`: never enlarge a picture that is already small.
- The angle classifier stays on: it costs about 10 ms a picture, and without it a document
  photographed sideways the "wrong" way round reads as nothing.
"""
import importlib.util
import threading
from importlib import metadata

from precheck.matching import Line

MAX_SIDE = 960
# What rapidocr imports (installed with --no-deps, so each is listed in requirements-precheck.txt).
PACKAGES = ("rapidocr_onnxruntime", "onnxruntime", "cv2", "numpy", "pyclipper", "shapely", "yaml")

_lock = threading.Lock()
_engine = None


def available() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in PACKAGES)


def engine_name() -> str:
    return (f"rapidocr-onnxruntime {metadata.version('rapidocr-onnxruntime')} (PP-OCRv4), "
            f"onnxruntime {metadata.version('onnxruntime')}")


def _get_engine():
    global _engine
    with _lock:
        if _engine is None:
            from rapidocr_onnxruntime import RapidOCR
            _engine = RapidOCR(max_side_len=MAX_SIDE, det_limit_type="max")
    return _engine


def load() -> None:
    """Load the models now (a worker may call this at start-up instead of on its first job)."""
    _get_engine()


def read(image) -> list[Line]:
    """The lines of text in a Pillow RGB image, top to bottom, with scores and boxes."""
    found, _ = _get_engine()(image)
    lines = []
    for points, text, score in found or []:
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        lines.append(Line(text, float(score), (min(xs), min(ys), max(xs), max(ys))))
    return lines
