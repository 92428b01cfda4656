"""Where a section form's values come from: the request, the person's draft (what they typed,
as they typed it), their saved answers (domain/answers.py types, mapped by each form's
`data_from`), or, for an existing accountant's first visit to the qualification section, the
archive."""
from werkzeug.datastructures import MultiDict

from blueprints.collection.forms import SECTION_FORMS, QualificationForm
from blueprints.forms_util import field_values, relevant_fields
from domain import answers
from domain.answers import MAX_QUALIFICATIONS
from domain.archive_import import archive_qualifications


def build_form(application, key, formdata=None):
    """The section's form, filled from `formdata`, else the draft, else the saved answers."""
    form_class = SECTION_FORMS[key]
    kwargs = _form_settings(application, key)
    if formdata is None:
        section = application.section(key)
        if section is not None and section.draft is not None:
            formdata = as_formdata(section.draft)
        else:
            given = saved_answers(application, key)
            if given is not None:
                return form_class(formdata=None, data=form_class.data_from(given), **kwargs)
    return form_class(formdata=formdata, **kwargs)


def _form_settings(application, key) -> dict:
    if key == "basic":
        return {"derived_identity": application.account.birth_date is not None}
    if key == "work":
        return {"birth_date": birth_date_of(application)}
    return {}


def saved_answers(application, key):
    """The saved answers of the section, or the archive's record for a first visit."""
    section = application.section(key)
    given = answers.from_stored(key, section.data) if section is not None else None
    if given is None and key == "qualification":
        given = archive_qualifications(application.account.id_number)
    return given


def as_formdata(values: dict) -> MultiDict:
    """{name: [values]} (a draft, or field_values) as the form data a form reads."""
    return MultiDict([(name, value) for name, values in values.items() for value in values])


def draft_of(application, key, formdata: MultiDict) -> dict[str, list[str]]:
    """What to keep of a post as the section's draft: its own fields only, as typed (anything
    else a request carries — other names, more values — is not the section's, and is dropped)."""
    return field_values(build_form(application, key, formdata), keep_empty=True)


def keep_hidden_answers(application, key, formdata: MultiDict) -> MultiDict:
    """A post carries only the fields on screen. Answers given earlier in fields that were
    hidden (the employer's, while 非在岗 was chosen) come back from the draft or the saved
    answers, so switching 在岗 / 非在岗 or 有 / 无 back and forth, and refused saves between the
    switches, lose nothing."""
    previous = build_form(application, key)
    shown = {field.name for _heading, field in relevant_fields(previous)}
    merged = MultiDict(formdata)
    section = application.section(key)
    earlier = [field_values(previous)]
    given = saved_answers(application, key)
    if section is not None and section.draft is not None and given is not None:
        earlier.append(field_values(SECTION_FORMS[key](
            formdata=None, data=SECTION_FORMS[key].data_from(given),
            **_form_settings(application, key))))
    for values in earlier:
        for name, value in values.items():
            if name not in shown and name not in merged and value:
                merged.setlist(name, value)
    return merged


def birth_date_of(application):
    """From the ID number, or as typed in 基本信息 for documents that do not carry it."""
    if application.account.birth_date:
        return application.account.birth_date
    basic = answers.of(application).basic  # the saved answers: a draft may hold any typo
    return basic.birth_date if basic is not None else None


def with_records_changed(formdata: MultiDict, action: str) -> MultiDict:
    """Add an empty qualification record, or remove record N (the rest keep their order)."""
    form = QualificationForm(formdata=formdata, meta={"csrf": False})
    records = [entry.form.data for entry in form.records.entries]
    if action == "add_record" and len(records) < MAX_QUALIFICATIONS:
        records.append({"level": "", "certificate_number": "", "obtained_on": ""})
    elif action.startswith("remove_record_"):
        number = action.removeprefix("remove_record_")
        index = int(number) if number.isdigit() else -1
        if 0 <= index < len(records) and len(records) > 1:
            records.pop(index)
    changed = QualificationForm(formdata=None, meta={"csrf": False},
                                data={"has": form.has.data, "records": records})
    return as_formdata(field_values(changed, keep_empty=True))
