"""Where a section form's values come from: the request, the stored draft or answers, or, for
an existing accountant's first visit to the qualification section, the archive."""
import re
from datetime import date

import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from blueprints.collection.forms import MAX_QUALIFICATIONS, SECTION_FORMS
from blueprints.forms_util import relevant_fields
from domain.applications import stored_answers
from domain.sections import first
from extensions import db
from models import ArchiveRecord

_RECORD_KEY = re.compile(r"^records-(\d+)-(.+)$")


def build_form(application, key, formdata=None):
    """The section's form, filled from `formdata` or else from what is stored."""
    account = application.account
    if formdata is None:
        stored = stored_answers(application, key)
        if stored is None and key == "qualification":
            stored = archive_answers(account.id_number)
        formdata = stored_formdata(stored) if stored is not None else None
    kwargs = {}
    if key == "basic":
        kwargs["derived_identity"] = account.birth_date is not None
    if key == "work":
        kwargs["birth_date"] = birth_date_of(application)
    return SECTION_FORMS[key](formdata=formdata, **kwargs)


def keep_hidden_answers(application, key, formdata: MultiDict) -> MultiDict:
    """A refresh posts only the fields on screen. Answers typed earlier into fields that were
    hidden (the employer's, while 非在岗 was chosen) come back from the draft, so switching
    在岗 / 非在岗 or 有 / 无 back and forth loses nothing."""
    stored = stored_answers(application, key)
    if not stored:
        return formdata
    previous = build_form(application, key, stored_formdata(stored))
    shown = {field.name for _heading, field in relevant_fields(previous)}
    merged = MultiDict(formdata)
    for name, values in stored.items():
        if name not in shown and name not in merged:
            merged.setlist(name, values)
    return merged


def stored_formdata(stored: dict) -> MultiDict:
    """Stored answers ({name: [values]}) as the form data a section form reads."""
    return MultiDict([(name, value) for name, values in stored.items() for value in values])


def birth_date_of(application):
    """From the ID number, or as typed in 基本信息 for documents that do not carry it."""
    if application.account.birth_date:
        return application.account.birth_date
    basic = application.section("basic")  # the saved answers: a draft may hold any typo
    typed = first(basic.data if basic else None, "birth_date")
    try:
        return date.fromisoformat(typed) if typed else None
    except ValueError:
        return None


def archive_answers(id_number: str) -> dict | None:
    records = list(db.session.scalars(
        sa.select(ArchiveRecord).where(ArchiveRecord.id_number == id_number)
        .order_by(ArchiveRecord.obtained_on)))
    if not records:
        return None
    answers = {"has": ["yes"]}
    for index, record in enumerate(records[:MAX_QUALIFICATIONS]):
        answers[f"records-{index}-level"] = [record.level]
        answers[f"records-{index}-certificate_number"] = [record.certificate_number]
        answers[f"records-{index}-obtained_on"] = [
            record.obtained_on.isoformat() if record.obtained_on else ""]
    return answers


def with_records_changed(formdata: MultiDict, action: str) -> MultiDict:
    """Add an empty qualification record, or remove record N, renumbering the rest."""
    records: dict[int, dict[str, list[str]]] = {}
    rest = MultiDict()
    for name, values in formdata.lists():
        match = _RECORD_KEY.match(name)
        if match:
            records.setdefault(int(match.group(1)), {})[match.group(2)] = values
        elif name != "action":
            rest.setlist(name, values)
    ordered = [records[i] for i in sorted(records)]
    if action == "add_record" and len(ordered) < MAX_QUALIFICATIONS:
        ordered.append({"level": [""], "certificate_number": [""], "obtained_on": [""]})
    elif action.startswith("remove_record_"):
        index = int(action.rsplit("_", 1)[1]) if action.rsplit("_", 1)[1].isdigit() else -1
        if 0 <= index < len(ordered) and len(ordered) > 1:
            ordered.pop(index)
    for index, record in enumerate(ordered):
        for field, values in record.items():
            rest.setlist(f"records-{index}-{field}", values)
    return rest
