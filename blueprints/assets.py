"""Static files served under names that carry their content hash (css/app.3f2a9c1b0d.css).

A changed file gets a new name, so nginx and browsers may keep every file for a year
(`immutable`), and a deploy never leaves a phone with new HTML and an old script. The names are
computed once at start from the files themselves; in production nginx serves them from
`static/` (deploy/nginx/kjxx.conf strips the hash), under `make run` and in tests Flask does."""
import hashlib
import re
from pathlib import Path

from flask import abort, send_from_directory

HASHED = re.compile(r"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{10})(?P<suffix>\.[A-Za-z0-9]+)$")
YEAR = 365 * 24 * 3600


def manifest(folder: Path) -> dict[str, str]:
    """{"css/app.css": "css/app.3f2a9c1b0d.css", ...} for every file under `folder`."""
    names = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            name = path.relative_to(folder).as_posix()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
            names[name] = f"{name.removesuffix(path.suffix)}.{digest}{path.suffix}"
    return names


def init_app(app, folder: Path) -> None:
    names = manifest(folder)
    originals = {hashed: name for name, hashed in names.items()}
    app.extensions["assets"] = names

    def asset_url(name: str) -> str:
        return f"{app.static_url_path}/{names[name]}"

    def serve(filename: str):
        original = originals.get(filename)
        if original is not None:
            return send_from_directory(folder, original, max_age=YEAR)
        if filename in names:  # a plain name (an error page's link): a short cache only
            return send_from_directory(folder, filename, max_age=300)
        abort(404)

    app.add_template_global(asset_url, "asset_url")
    app.add_url_rule(f"{app.static_url_path}/<path:filename>", endpoint="static",
                     view_func=serve)
