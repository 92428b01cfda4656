"""The warning before the idle logout (static/js/app.js), with Playwright's clock standing in
for the half hour: two minutes before the limit a dialog offers 继续使用, which extends the
session on the server without leaving the page (what was typed stays); Esc does the same; left
alone, or once the server has ended the session, the dialog says so and offers 重新登录."""
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from domain import login_sessions
from extensions import db
from models import Account, ApplicationStatus, LoginSession, utcnow
from tests.browser.pages import (
    assert_accessible,
    button,
    field,
    in_app,
    posted_to,
    sign_in_context,
    tap_target_problems,
)
from tests.factories import make_application

KEEP_ALIVE = "/session/keep-alive"
BEFORE_WARNING = "26:30"   # 30 minutes, less a minute (the server notes a visit once a minute)
INTO_WARNING = "00:40"     # and less the two minutes of warning


def idle_for(app, duration: timedelta):
    def update():
        db.session.execute(sa.update(LoginSession).values(last_seen_at=utcnow() - duration))
        db.session.commit()
    in_app(app, update)


def idle_time(app) -> timedelta:
    return utcnow() - in_app(app, lambda: db.session.scalar(sa.select(LoginSession.last_seen_at)))


def end_sessions(app, person):
    def end():
        account = db.session.scalar(sa.select(Account).where(
            Account.id_number == person.id_number))
        login_sessions.end_all(account)
        db.session.commit()
    in_app(app, end)


def warning(page: Page):
    return page.get_by_role("dialog", name="即将自动退出登录")


def signed_in_page(browser, browser_context_args, app, base_url):
    person = make_application(app, status=ApplicationStatus.DRAFT, complete=False,
                              with_materials=False)
    context = browser.new_context(**browser_context_args)
    sign_in_context(context, app, person, base_url)
    page = context.new_page()
    page.clock.install()
    page.goto("/account/password")
    page.wait_for_load_state("load")
    return person, page


@pytest.mark.browser
def test_continue_keeps_the_session_and_what_was_typed(browser, browser_context_args, app,
                                                         base_url):
    _person, page = signed_in_page(browser, browser_context_args, app, base_url)
    field(page, "当前密码").fill("typed before the warning")

    page.clock.fast_forward(BEFORE_WARNING)
    expect(warning(page)).to_be_hidden()
    page.clock.fast_forward(INTO_WARNING)
    expect(warning(page)).to_be_visible()
    expect(warning(page)).to_contain_text("继续使用")
    expect(button(warning(page), "继续使用")).to_be_focused()
    assert_accessible(page, "the idle-logout warning")
    cdp = page.context.new_cdp_session(page)
    assert tap_target_problems(page, cdp, "the warning", widths=(320,)) == []

    idle_for(app, timedelta(minutes=28))
    with page.expect_response(posted_to(KEEP_ALIVE)) as answer:
        button(warning(page), "继续使用").click()
    assert answer.value.status == 204
    expect(warning(page)).to_be_hidden()
    assert idle_time(app) < timedelta(seconds=10)
    expect(field(page, "当前密码")).to_have_value("typed before the warning")

    # counted again from 继续使用: another 28 minutes, and Esc means "still here" too
    page.clock.fast_forward("27:00")
    expect(warning(page)).to_be_hidden()
    page.clock.fast_forward("01:30")
    expect(warning(page)).to_be_visible()
    with page.expect_response(posted_to(KEEP_ALIVE)) as answer:
        page.keyboard.press("Escape")
    assert answer.value.status == 204
    expect(warning(page)).to_be_hidden()
    page.context.close()


@pytest.mark.browser
def test_left_alone_the_page_says_the_session_ended(browser, browser_context_args, app,
                                                      base_url):
    person, page = signed_in_page(browser, browser_context_args, app, base_url)
    page.clock.fast_forward(BEFORE_WARNING)
    page.clock.fast_forward(INTO_WARNING)
    expect(warning(page)).to_be_visible()
    page.clock.fast_forward("02:10")
    ended = page.get_by_role("dialog", name="已自动退出登录")
    expect(ended).to_be_visible()
    expect(ended.get_by_role("link", name="重新登录")).to_have_attribute(
        "href", "/login?next=/account/password")
    assert_accessible(page, "the ended-session notice")
    button(ended, "关闭").click()
    expect(ended).to_be_hidden()
    page.context.close()

    # The server ended it first (another device, a password change): 继续使用 finds out.
    person, page = signed_in_page(browser, browser_context_args, app, base_url)
    page.clock.fast_forward(BEFORE_WARNING)
    page.clock.fast_forward(INTO_WARNING)
    end_sessions(app, person)
    with page.expect_response(posted_to(KEEP_ALIVE)) as answer:
        button(warning(page), "继续使用").click()
    assert answer.value.status == 401
    expect(page.get_by_role("dialog", name="已自动退出登录")).to_be_visible()
    page.context.close()
