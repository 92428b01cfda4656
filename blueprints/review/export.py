"""Streaming a short export straight to the reviewer (a long one is built by a job:
domain/exports.py)."""
import tempfile
from urllib.parse import quote

from flask import Response, stream_with_context

from domain import review_queue
from domain.exports import FILENAME, XLSX
from domain.review_workbook import write_workbook


def download_headers() -> dict:
    return {"Content-Disposition": "attachment; filename=review-list.xlsx; "
                                   f"filename*=UTF-8''{quote(FILENAME)}",
            "Cache-Control": "private, no-store"}


def export_response(region, list_filter) -> Response:
    def generate():
        with tempfile.TemporaryFile() as spool:
            write_workbook(review_queue.all_rows(region, list_filter), spool)
            spool.seek(0)
            while chunk := spool.read(64 * 1024):
                yield chunk

    return Response(stream_with_context(generate()), mimetype=XLSX, headers=download_headers())
