"""'Today' is Yunnan's today (Beijing time), not the servers' UTC date."""
from datetime import UTC, date, datetime, timedelta

import pytest

from domain import clock, id_numbers
from tests.helpers import make_id


def test_today_is_beijing_time():
    beijing = (datetime.now(UTC) + timedelta(hours=8)).date()
    assert clock.today() == beijing


@pytest.mark.parametrize("born, accepted", [("19900101", True), ("19900102", False)])
def test_id_birth_dates_are_judged_against_the_beijing_date(monkeypatch, born, accepted):
    monkeypatch.setattr(clock, "today", lambda: date(1990, 1, 1))
    number = make_id(birth=born)
    if accepted:
        assert id_numbers.validate(id_numbers.RESIDENT_ID, number) == number
    else:
        with pytest.raises(id_numbers.InvalidIdNumber, match="出生日期"):
            id_numbers.validate(id_numbers.RESIDENT_ID, number)
