"""The time that matters to the people served: Beijing time (UTC+8, no summer time).

The servers keep UTC; "today" for a date typed into a form, or a date filter, is Yunnan's today.
Between 00:00 and 08:00 Beijing time the servers' own date is still yesterday."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

LOCAL_TIME = ZoneInfo("Asia/Shanghai")


def today() -> date:
    return datetime.now(LOCAL_TIME).date()
