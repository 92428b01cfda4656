"""属地: which county's finance bureau reviews an application.

在岗 people are reviewed where their employer is; students where their school is; everyone else
where their household registration or residence is (the county they give as 采集所在地).
Always derived on the server from the saved work section, never taken from the client."""
from domain.answers import WorkAnswers


def county_from_work(work: WorkAnswers | None) -> str | None:
    return work.county if work is not None else None
