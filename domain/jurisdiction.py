"""属地: which county's finance bureau reviews an application.

在岗 people are reviewed where their employer is; students where their school is; everyone else
where their household registration or residence is (the county they give as 采集所在地).
Always derived on the server from the saved work section, never taken from the client."""
from domain.sections import first


def county_from_work(work: dict | None) -> str | None:
    if not work:
        return None
    if first(work, "employed") == "yes":
        return first(work, "unit_county") or None
    return first(work, "collection_county") or None
