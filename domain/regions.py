"""Yunnan's prefectures and counties (GB/T 2260, 2024) and their finance bureaus.

The divisions change only when `flask regions load` runs (a deploy), so each process reads them
once and answers the form choices and lists from memory; a process started before a load sees
the new divisions after its restart (load_regions clears its own process's copy)."""
import json
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from extensions import db
from models import Region, RegionLevel

DIVISIONS_FILE = Path(__file__).resolve().parent.parent / "data" / "yunnan_divisions.json"
PROVINCE_CODE = "530000"
PROVINCE_NAME = "云南省"


def bureau_name(name: str, level: str) -> str:
    return "云南省财政厅" if level == RegionLevel.PROVINCE else f"{name}财政局"


def read_divisions(path: Path = DIVISIONS_FILE) -> list[dict]:
    """Province, prefectures and counties as flat rows, parents first."""
    prefectures = json.loads(path.read_text(encoding="utf-8"))
    rows = [dict(code=PROVINCE_CODE, name=PROVINCE_NAME, level=RegionLevel.PROVINCE,
                 parent_code=None)]
    for prefecture in prefectures:
        rows.append(dict(code=prefecture["code"], name=prefecture["name"],
                         level=RegionLevel.PREFECTURE, parent_code=PROVINCE_CODE))
        rows.extend(dict(code=county["code"], name=county["name"], level=RegionLevel.COUNTY,
                         parent_code=prefecture["code"]) for county in prefecture["counties"])
    for row in rows:
        row["bureau_name"] = bureau_name(row["name"], row["level"])
    return rows


def load_regions(path: Path = DIVISIONS_FILE) -> tuple[int, int]:
    """Insert or update every division; safe to run any number of times. Returns (added, updated)."""
    existing = {r.code: r for r in db.session.scalars(sa.select(Region))}
    added = updated = 0
    for row in read_divisions(path):
        region = existing.get(row["code"])
        if region is None:
            db.session.add(Region(**row))
            db.session.flush()
            added += 1
        elif any(getattr(region, key) != value for key, value in row.items()):
            for key, value in row.items():
                setattr(region, key, value)
            updated += 1
    db.session.commit()
    current_app.extensions.pop(_CACHE, None)
    return added, updated


@dataclass(frozen=True)
class Division:
    """A region as the forms and lists show it: read once per process, never changed."""
    code: str
    name: str
    level: str
    parent_code: str | None
    bureau_name: str


_CACHE = "regions"


@dataclass(frozen=True)
class _Index:
    by_code: dict[str, Division]
    children: dict[str | None, tuple[Division, ...]]   # parent code -> its divisions, by code
    derived: dict = field(default_factory=dict)          # see `remembered`


def _index() -> _Index:
    cached = current_app.extensions.get(_CACHE)
    if cached is None:
        rows = db.session.scalars(sa.select(Region).order_by(Region.code))
        by_code = {r.code: Division(r.code, r.name, r.level, r.parent_code, r.bureau_name)
                   for r in rows}
        children: dict[str | None, list[Division]] = {}
        for d in by_code.values():
            children.setdefault(d.parent_code, []).append(d)
        cached = _Index(by_code, {code: tuple(ds) for code, ds in children.items()})
        if by_code:  # an empty table (before `regions load`) is not worth remembering
            current_app.extensions[_CACHE] = cached
    return cached


def remembered(key: str, build):
    """A value built from the divisions alone (a form's choice list), built once per process
    and forgotten with them. Only for a bounded set of keys (known region codes)."""
    index = _index()
    if not index.by_code:
        return build()
    if key not in index.derived:
        index.derived[key] = build()
    return index.derived[key]


def get_region(code: str | None) -> Region | None:
    return db.session.get(Region, code) if code else None


def division(code: str | None) -> Division | None:
    return _index().by_code.get(code) if code else None


def counties_of(prefecture_code: str) -> list[Division]:
    return list(_index().children.get(prefecture_code, ()))


def prefectures() -> list[Division]:
    return counties_of(PROVINCE_CODE)


def counties_within(region) -> list[Division]:
    """The counties a region covers: all of them, a prefecture's, or the county itself."""
    if region.level == RegionLevel.COUNTY:
        return [division(region.code)]
    if region.level == RegionLevel.PREFECTURE:
        return counties_of(region.code)
    return [d for d in _index().by_code.values() if d.level == RegionLevel.COUNTY]
