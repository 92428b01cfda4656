"""The time that matters to the people served: Beijing time (UTC+8, no summer time).

The servers keep UTC; "today" for a date typed into a form, or a date filter, is Yunnan's today.
Between 00:00 and 08:00 Beijing time the servers' own date is still yesterday."""
from datetime import date, datetime
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
