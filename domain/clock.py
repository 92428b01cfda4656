"""The time that matters to the people served: Beijing time (UTC+8, no summer time).

The servers keep UTC; "today" for a date typed into a form, or a date filter, is Yunnan's today.
Between 00:00 and 08:00 Beijing time the servers' own date is still yesterday."""
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

LOCAL_TIME = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")


def today() -> date:
    return datetime.now(LOCAL_TIME).date()


def local_time(moment: datetime | None) -> str:
    """A stored (naive UTC) moment as Beijing time, to the minute."""
    if moment is None:
        return ""
    return moment.replace(tzinfo=UTC).astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M")


def local_midnight_utc(day: date) -> datetime:
    """The (naive UTC) moment a Beijing-time day begins: where a date filter starts."""
    local = datetime.combine(day, time.min, tzinfo=LOCAL_TIME)
    return local.astimezone(UTC).replace(tzinfo=None)


FILTER_YEARS = (2000, 2200)   # the years a record of this system can carry


def usable_date(day: date | None, errors=()) -> date | None:
    """A date filter as typed, if it parsed and lies in the years a record can have; else None
    (the filter is simply not applied)."""
    if day is None or errors or not FILTER_YEARS[0] <= day.year <= FILTER_YEARS[1]:
        return None
    return day
