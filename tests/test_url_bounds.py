"""Every parameter a URL takes has bounds: whatever a client puts in the reviewer list's query
string or in an id in a path, the answer is a page or a 404, never a 5xx."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import Role
from tests.factories import make_application, staff_client

HUGE = [str(2**31), str(2**63), str(10**40), "-1", "0", "9" * 400]
CURSORS = [f"2026-01-01T00:00:00.000000_{n}" for n in HUGE] + [
    "9999-12-31T23:59:59.999999_1", "0001-01-01T00:00:00_1", "2026-01-01T00:00:00+08:00_1",
    "_", "x" * 5000, "2026-13-45T99:99:99_1", "２０２６-01-01T00:00:00_１"]
DATES = ["9999-12-31", "0001-01-01", "2026-02-30", "10000-01-01", "-1", "２０２６-01-01", ""]


@pytest.fixture
def reviewer(app):
    make_application(app)
    client, _member = staff_client(app, Role.REVIEWER, "530000")
    return client


@pytest.mark.parametrize("cursor", CURSORS)
@pytest.mark.parametrize("direction", ["after", "before"])
def test_out_of_range_cursors_are_ignored(reviewer, cursor, direction):
    response = reviewer.get("/review", query_string={direction: cursor})
    assert response.status_code == 200


@pytest.mark.parametrize("day", DATES)
def test_out_of_range_dates_are_not_applied(reviewer, day):
    for name in ("date_from", "date_to"):
        assert reviewer.get("/review", query_string={name: day}).status_code == 200
        assert reviewer.get("/review/export.xlsx", query_string={name: day}).status_code \
            in (200, 303)


@pytest.mark.parametrize("number", HUGE)
def test_ids_in_paths_beyond_the_database_are_not_found(reviewer, number):
    for path in (f"/review/{number}", f"/media/materials/{number}.jpg",
                 f"/review/exports/{number}", f"/media/materials/{number}-thumb.jpg"):
        assert reviewer.get(path).status_code == 404, path


texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.fixed_dictionaries({}, optional={
    "status": texts, "county": texts, "date_from": texts, "date_to": texts, "q": texts,
    "after": texts | st.sampled_from(CURSORS), "before": texts | st.sampled_from(CURSORS)}))
def test_any_query_string_gets_a_page(reviewer, query):
    response = reviewer.get("/review", query_string=query)
    assert response.status_code < 500, (query, response.status_code)


@pytest.mark.parametrize("number", HUGE)
def test_the_audit_log_page_link_is_bounded(app, number):
    client, _member = staff_client(app, Role.AUDITOR, "530000")
    assert client.get("/audit", query_string={"before": number}).status_code == 200


def test_a_nul_character_anywhere_is_a_plain_400(app, client):
    assert client.get("/review", query_string={"q": "张\x00三"}).status_code == 400
    response = client.post("/register", data={"name": "张\x00三", "phone": "13800001111"})
    assert response.status_code == 400
    assert "无效字符" in response.get_data(as_text=True)
