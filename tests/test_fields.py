"""Our form fields write the same HTML as WTForms' own, only faster (blueprints/fields.py): the
attributes, their order and their escaping are compared with WTForms' html_params."""
import pytest
from markupsafe import Markup
from wtforms.widgets.core import Input, html_params

from blueprints.fields import fast_html_params


@pytest.mark.parametrize("attributes", [
    {"name": "unit_name", "id": "unit_name", "value": "云南某某会计服务有限公司"},
    {"value": '"><script>alert(1)</script>', "class_": "input", "aria_invalid": "true"},
    {"required": True, "disabled": False, "data_x": "a&b", "hx-post": "/collection/work"},
    {"value": 0, "maxlength": 40, "autocomplete": "off"},
    {"value": "it's \"quoted\" <b>", "placeholder": "&amp;"},
])
def test_the_same_attributes_as_wtforms(attributes):
    assert fast_html_params(**attributes) == html_params(**attributes)
    assert isinstance(fast_html_params(**attributes), Markup)


def test_wtforms_itself_is_left_alone(app):
    """Our widgets are subclasses: WTForms' own Input keeps its own html_params."""
    assert Input.html_params is html_params
