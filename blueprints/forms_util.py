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
