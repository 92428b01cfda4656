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


def _values(field, keep_empty: bool) -> list[str]:
    if isinstance(field.data, list):
        return [str(v) for v in field.data]
    if field.data in (None, ""):
        return [""] if keep_empty else []
    return [str(field.data)]


def field_values(form, keep_empty: bool = False) -> dict[str, list[str]]:
    """Every field's value as form data ({name: [values]}), nested blocks and repeated records
    included: what the form would post. With keep_empty an empty field posts "" (so an empty
    repeated record still counts as one)."""
    values = {}
    for field in form:
        if field.type == "CSRFTokenField":
            continue
        if field.type == "FormField":
            values |= field_values(field.form, keep_empty)
        elif field.type == "FieldList":
            for entry in field.entries:
                values |= field_values(entry.form, keep_empty)
        else:
            values[field.name] = _values(field, keep_empty)
    return values
