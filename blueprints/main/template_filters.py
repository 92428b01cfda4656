"""Template filters: masking and local (Beijing) time."""
from zoneinfo import ZoneInfo

from domain.id_numbers import mask as mask_id
from domain.phones import mask as mask_phone
from domain.clock import LOCAL_TIME

UTC = ZoneInfo("UTC")


def local_time(moment) -> str:
    if moment is None:
        return ""
    return moment.replace(tzinfo=UTC).astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M")


def register(app):
    app.add_template_filter(mask_id, "mask_id")
    app.add_template_filter(mask_phone, "mask_phone")
    app.add_template_filter(local_time, "local_time")
