"""How an export reaches the reviewer's browser: a download that no cache keeps."""
from urllib.parse import quote

from domain.exports import FILENAME


def download_headers() -> dict:
    return {"Content-Disposition": "attachment; filename=review-list.xlsx; "
                                   f"filename*=UTF-8''{quote(FILENAME)}",
            "Cache-Control": "private, no-store"}
