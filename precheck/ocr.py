"""The OCR engine: RapidOCR, running the PP-OCRv4 models shipped inside its wheel on onnxruntime
(nothing is downloaded at run time). The only module that imports rapidocr_onnxruntime.

The engine loads once per process, on first use, and is kept: a worker reads many pictures.

Settings, measured on the generated documents (bench/precheck_bench.py, 2 cores):
- `max_side_len=800`: the picture is scaled so its longer side is at most 800 px before
  detection and recognition. rapidocr 1.4.4 otherwise detects at full size — its own
  `det_limit_side_len` is ignored for `det_limit_type="max"` and only ever enlarges for "min" —
  and detection's working memory grows with the picture's area: a stored 1600 px document took
  the worker to about 700 MB, at 960 px to 390–480 MB, at 800 px to 310–340 MB, each reading the
  same text on our documents (the ID number's digits are still about 18 px high at 800).
- `det_limit_type="max"`: never enlarge a picture that is already small.
- `rec_batch_num=2` (default 6): lines are recognised two at a time, each batch padded to its
  widest line; six long certificate lines at once cost about 60 MB more at the peak, for no
  measurable speed.
- One thread (`intra_op_num_threads=1`; onnxruntime's default is one per core): the worker
  shares the 2 cores with the web app, and onnxruntime's threads spin while they wait. On the
  busy test machine a document took 266 ms of CPU and 319 ms wall with one thread, against
  671 ms of CPU and 1242 ms wall with the default.
- The angle classifier stays on: it costs about 10 ms a picture, and without it a document
  photographed sideways the "wrong" way round reads as nothing.
- After each picture the freed working memory is handed back to the system (glibc's
  malloc_trim): otherwise glibc keeps ~200 MB of fragments between jobs and the next picture's
  peak lands on top of them (a worker then peaks near 440 MB instead of 340 MB at 800 px).
"""
import ctypes
import functools
import importlib.util
import threading
from importlib import metadata

from precheck.matching import Line

MAX_SIDE = 800
RECOGNITION_BATCH = 2
THREADS = 1
# What rapidocr imports (installed with --no-deps, so each is listed in requirements-precheck.txt).
PACKAGES = ("rapidocr_onnxruntime", "onnxruntime", "cv2", "numpy", "pyclipper", "shapely", "yaml")

_lock = threading.Lock()
_engine = None
# One picture at a time: rapidocr keeps per-call state on the engine object, and onnxruntime
# already spreads one picture over every core.
_reading = threading.Lock()


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
            _engine = RapidOCR(max_side_len=MAX_SIDE, det_limit_type="max",
                               rec_batch_num=RECOGNITION_BATCH, intra_op_num_threads=THREADS,
                               inter_op_num_threads=THREADS)
    return _engine


def load() -> None:
    """Load the models now (a worker may call this at start-up instead of on its first job)."""
    _get_engine()


def read(image) -> list[Line]:
    """The lines of text in a Pillow RGB image, top to bottom, with scores and boxes."""
    engine = _get_engine()
    with _reading:
        try:
            found, _ = engine(image)
        finally:
            _return_freed_memory()
    lines = []
    for points, text, score in found or []:
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        lines.append(Line(text, float(score), (min(xs), min(ys), max(xs), max(ys))))
    return lines


@functools.cache
def _malloc_trim():
    """glibc's malloc_trim from the running process, or None (musl, macOS: nothing to trim)."""
    return getattr(ctypes.CDLL(None), "malloc_trim", None)


def _return_freed_memory() -> None:
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
