"""Every page an accountant meets fits a 360 px screen: no sideways scrolling."""
import pytest
from playwright.sync_api import Page

from tests.browser.pages import HttpApplicant, log_in, register_applicant
from tests.helpers import make_id

COLLECTION_PAGES = ["/collection", "/collection/basic", "/collection/work",
                    "/collection/education", "/collection/qualification",
                    "/collection/materials", "/collection/summary", "/account/password",
                    "/account/phone", "/forgot-password", "/privacy"]


@pytest.mark.browser
def test_no_horizontal_scroll_at_360px_on_the_accountants_pages(page: Page, app):
    person = register_applicant(app, make_id(seq="360"), "13800003600")
    filler = HttpApplicant(app, person)
    filler.fill_sections()
    filler.upload_materials()
    page.set_viewport_size({"width": 360, "height": 740})
    log_in(page, person)
    too_wide = {}
    for path in COLLECTION_PAGES:
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 360:
            too_wide[path] = width
    assert too_wide == {}
