"""The form fields our forms use: WTForms' own, with widgets that write their attributes faster.

WTForms builds every attribute with Markup.format, which was a third of a form page's render
time. `Input.html_params` is the class hook WTForms gives for this; our widgets are subclasses
that override it (nothing in WTForms is changed for anyone else), and each field below uses
them. The attributes and their escaping are the same (tests/test_fields.py compares them)."""
from markupsafe import Markup, escape
from wtforms import fields
from wtforms.widgets import (
    CheckboxInput,
    DateInput,
    HiddenInput,
    PasswordInput,
    RadioInput,
    Select,
    TextInput,
)
from wtforms.widgets.core import clean_key


def fast_html_params(**kwargs) -> Markup:
    params = []
    for key, value in sorted(kwargs.items()):
        key = clean_key(key)
        if value is True:
            params.append(key)
        elif value is not False:
            params.append(f'{escape(key)}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(params))


class FastTextInput(TextInput):
    html_params = staticmethod(fast_html_params)


class FastPasswordInput(PasswordInput):
    html_params = staticmethod(fast_html_params)


class FastHiddenInput(HiddenInput):
    html_params = staticmethod(fast_html_params)


class FastDateInput(DateInput):
    html_params = staticmethod(fast_html_params)


class FastCheckboxInput(CheckboxInput):
    html_params = staticmethod(fast_html_params)


class FastRadioInput(RadioInput):
    html_params = staticmethod(fast_html_params)


class FastSelect(Select):
    @classmethod
    def render_option(cls, choice, **kwargs):
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        options = {"value": value, **(choice.render_kw or {}), **kwargs}
        if choice.selected:
            options["selected"] = True
        label = escape(choice.label or choice.value)
        return Markup(f"<option {fast_html_params(**options)}>{label}</option>")


class StringField(fields.StringField):
    widget = FastTextInput()


class PasswordField(fields.PasswordField):
    widget = FastPasswordInput()


class HiddenField(fields.HiddenField):
    widget = FastHiddenInput()


class BooleanField(fields.BooleanField):
    widget = FastCheckboxInput()


class DateField(fields.DateField):
    widget = FastDateInput()


class RadioField(fields.RadioField):
    option_widget = FastRadioInput()


class SelectField(fields.SelectField):
    widget = FastSelect()


class SelectMultipleField(fields.SelectMultipleField):
    widget = FastSelect(multiple=True)
