"""The reviewer's list: only applications inside the reviewer's jurisdiction, filtered by status,
county, submission date and machine-check doubt, searched by name, ID number or phone, 50 to a
page.

Pages are keyed on (submitted_at, id) — no OFFSET, so the 1000th page costs what the first does —
and each jurisdiction level has an index that serves its filter and order (and a partial one,
holding only the applications with a doubt, for 机器核对有疑点). Counts stop at COUNT_CAP so
counting never costs more than the page."""
import dataclasses
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from domain import id_numbers
from domain.access import scope
from domain.clock import FILTER_YEARS, local_midnight_utc
from domain.regions import counties_within, division, prefectures
from extensions import db
from models import Account, Application, ApplicationStatus, Region, RegionLevel
from models.application import KIND_LABELS, STATUS_LABELS, ApplicationKind

PAGE_SIZE = 50
COUNT_CAP = 10_000
TABS = [(ApplicationStatus.PENDING, "待审核"), (ApplicationStatus.REJECTED, "审核失败"),
        (ApplicationStatus.APPROVED, "审核成功")]
TAB_KEYS = [key for key, _label in TABS]


@dataclass
class ListFilter:
    status: str = ApplicationStatus.PENDING
    county: str = ""
    date_from: date | None = None
    date_to: date | None = None
    query: str = ""
    doubt: bool = False     # 机器核对有疑点: a pre-check of a current picture disagrees
    kind: str = ""          # 首次采集 / 信息变更 (ApplicationKind), or both

    def query_args(self) -> dict[str, str]:
        """The filter as a link's query string: the list, its pages, and the detail pages opened
        from it (审核下一份 stays in the same list)."""
        args = {"status": self.status, "county": self.county, "q": self.query,
                "date_from": self.date_from.isoformat() if self.date_from else "",
                "date_to": self.date_to.isoformat() if self.date_to else "",
                "doubt": "y" if self.doubt else "", "kind": self.kind}
        return {name: value for name, value in args.items() if value}


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    prev_cursor: str | None
    count: int
    count_capped: bool


def _search(query: str):
    text = query.strip()
    normalised = id_numbers.normalise(text)
    if re.fullmatch(r"1[3-9]\d{9}", normalised):
        return Account.phone == normalised
    if len(normalised) >= 8 and re.fullmatch(r"[0-9A-Z]+", normalised):
        return Account.id_number == normalised
    return Account.name == text


def _conditions(region: Region, list_filter: ListFilter) -> list:
    conditions = [scope(region), Application.status == list_filter.status]
    if list_filter.county:
        conditions.append(Application.jurisdiction_code == list_filter.county)
    if list_filter.date_from:
        conditions.append(Application.submitted_at >= local_midnight_utc(list_filter.date_from))
    if list_filter.date_to:
        conditions.append(Application.submitted_at <
                          local_midnight_utc(list_filter.date_to + timedelta(days=1)))
    if list_filter.query.strip():
        conditions.append(_search(list_filter.query))
    if list_filter.doubt:
        # The bare column, as the partial indexes' predicate says it: they serve the filter.
        conditions.append(Application.precheck_doubt)
    if list_filter.kind in KIND_LABELS:
        conditions.append(Application.kind == list_filter.kind)
    return conditions


def base_query(region: Region, list_filter: ListFilter):
    query = sa.select(Application)
    if list_filter.query.strip():
        # Only a search looks at the account. Every application has exactly one account
        # (account_id is NOT NULL), so without a search the join changes nothing but the cost:
        # it made the capped count visit up to 10,001 account index entries.
        query = query.join(Account, Account.id == Application.account_id)
    return query.where(*_conditions(region, list_filter))


def encode_cursor(application: Application) -> str:
    return f"{application.submitted_at.isoformat(timespec='microseconds')}_{application.id}"


CURSOR_YEARS = FILTER_YEARS
ID_MAX = 2**31 - 1


def decode_cursor(cursor: str | None):
    """(submitted_at, id) from a page link, or None for anything a link never holds."""
    if not cursor or len(cursor) > 60:
        return None
    try:
        moment, ident = cursor.rsplit("_", 1)
        when, number = datetime.fromisoformat(moment), int(ident)
    except ValueError:
        return None
    if when.tzinfo is not None or not CURSOR_YEARS[0] <= when.year <= CURSOR_YEARS[1] \
            or not 0 < number <= ID_MAX:
        return None
    return when, number


@dataclass(frozen=True)
class ListRow:
    """One line of the reviewer's list: only the columns the list shows (no ORM objects)."""
    id: int
    status: str
    submitted_at: datetime
    name: str
    id_number: str
    phone: str | None
    jurisdiction_code: str | None
    precheck_doubt: bool = False
    kind: str = ApplicationKind.FIRST

    @property
    def is_change(self) -> bool:
        return self.kind == ApplicationKind.CHANGE

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[ApplicationStatus(self.status)]

    @property
    def jurisdiction_name(self) -> str:
        found = division(self.jurisdiction_code)
        return found.name if found else ""


LIST_COLUMNS = (Application.id, Application.status, Application.submitted_at, Account.name,
                Account.id_number, Account.phone, Application.jurisdiction_code,
                Application.precheck_doubt, Application.kind)


def _fetch(region: Region, list_filter: ListFilter, after=None, before=None, size=PAGE_SIZE,
           for_export=False):
    """Pending: oldest first (first come, first served); decided: newest first. The list page
    reads its columns only; the export loads whole applications with their sections."""
    ascending = list_filter.status == ApplicationStatus.PENDING
    key = sa.tuple_(Application.submitted_at, Application.id)
    query = base_query(region, list_filter)
    if not for_export:
        if not list_filter.query.strip():
            query = query.join(Account, Account.id == Application.account_id)
        query = query.with_only_columns(*LIST_COLUMNS)
    after_key, before_key = decode_cursor(after), decode_cursor(before)
    backwards = before_key is not None and after_key is None
    if after_key:
        bound = sa.tuple_(*after_key)
        query = query.where(key > bound if ascending else key < bound)
    if backwards:
        bound = sa.tuple_(*before_key)
        query = query.where(key < bound if ascending else key > bound)
    order = (Application.submitted_at.asc(), Application.id.asc()) if ascending != backwards \
        else (Application.submitted_at.desc(), Application.id.desc())
    query = query.order_by(*order).limit(size + 1)
    rows = list(db.session.scalars(query)) if for_export else \
        [ListRow(*row) for row in db.session.execute(query)]
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    has_next = True if backwards else more
    has_prev = more if backwards else after_key is not None
    return (rows, encode_cursor(rows[-1]) if rows and has_next else None,
            encode_cursor(rows[0]) if rows and has_prev else None)


def page(region: Region, list_filter: ListFilter, after: str | None = None,
         before: str | None = None) -> Page:
    rows, next_cursor, prev_cursor = _fetch(region, list_filter, after, before)
    count, capped = count_capped(region, list_filter)
    return Page(rows, next_cursor, prev_cursor, count, capped)


def next_pending(region: Region, list_filter: ListFilter, decided: Application) -> ListRow | None:
    """审核下一份: the pending application after the one just decided in the same list (oldest
    first), or else the first one left that was skipped earlier."""
    pending = dataclasses.replace(list_filter, status=ApplicationStatus.PENDING)
    after = encode_cursor(decided) if decided.submitted_at else None
    rows, _next, _prev = _fetch(region, pending, after=after, size=1)
    if not rows and after:
        rows, _next, _prev = _fetch(region, pending, size=1)
    return rows[0] if rows else None


def count_capped(region: Region, list_filter: ListFilter) -> tuple[int, bool]:
    inner = base_query(region, list_filter).with_only_columns(Application.id).limit(COUNT_CAP + 1)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(inner.subquery()))
    return min(count, COUNT_CAP), count > COUNT_CAP


def all_rows(region: Region, list_filter: ListFilter, batch: int = 1000):
    """Every row of the filtered list, for the export, fetched in keyset batches."""
    cursor = None
    while True:
        rows, cursor, _prev = _fetch(region, list_filter, after=cursor, size=batch,
                                     for_export=True)
        yield from rows
        db.session.expunge_all()  # keep memory flat however long the list
        if not cursor:
            return


def progress(region: Region) -> list[dict]:
    """Counts by status per county (per prefecture for the province)."""
    by_prefecture = region.level == RegionLevel.PROVINCE
    column = Application.prefecture_code if by_prefecture else Application.jurisdiction_code
    counts = db.session.execute(
        sa.select(column, Application.status, sa.func.count())
        .where(scope(region)).group_by(column, Application.status)).all()
    units = prefectures() if by_prefecture else counties_within(region)
    table = {unit.code: {"region": unit, **{s.value: 0 for s in ApplicationStatus}}
             for unit in units}
    for code, status, count in counts:
        if code in table:
            table[code][status] = count
    return list(table.values())
