"""Small helpers for Flask-WTF forms used by every blueprint."""


def add_error(field, message: str) -> None:
    field.errors = [*field.errors, message]


def validate_fields(form, *names) -> bool:
    """Validate only the named fields (with their validate_<name> methods)."""
    ok = True
    for name in names:
        inline = getattr(type(form), f"validate_{name}", None)
        if not form[name].validate(form, [inline] if inline else []):
            ok = False
    return ok


def relevant_fields(form, heading: str | None = None):
    """(heading, field) for every answer field that applies to the answers given, nested blocks
    and repeated records included; heading names the block or record ("资格证书 2"), else None."""
    names = form.relevant_names() if hasattr(form, "relevant_names") else list(form._fields)
    for name in names:
        field = form._fields.get(name)
        if field is None or field.type == "CSRFTokenField":
            continue
        if field.type == "FormField":
            yield from relevant_fields(field.form, field.label.text)
        elif field.type == "FieldList":
            for index, entry in enumerate(field.entries, start=1):
                yield from relevant_fields(entry.form, f"{field.label.text} {index}")
        else:
            yield heading, field


def answers_of(form) -> dict[str, list[str]]:
    """The form's applicable answers as form data ({name: [values]}), ready to store and to
    load back with Form(formdata=MultiDict(answers))."""
    answers = {}
    for _heading, field in relevant_fields(form):
        if isinstance(field.data, list):
            answers[field.name] = [str(v) for v in field.data]
        else:
            answers[field.name] = [str(field.data)] if field.data not in (None, "") else []
    return answers
