"""Browser fixtures: the app served on 127.0.0.1 by a real WSGI server in a thread, headless
Debian Chromium sized like a phone, CSRF switched back on, full-page screenshots."""
import os
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
PHONE = {"width": 390, "height": 844}


def answered_whole(app):
    """Each answer read to the end and its body closed before a byte is sent. Werkzeug's
    development server skips closing the body when the browser drops the connection while
    reading what is left of the request (Chromium drops favicon requests as it navigates): the
    open static file then warns when it is collected, an error in whichever test runs."""
    def wsgi(environ, start_response):
        result = app(environ, start_response)
        try:
            return [b"".join(result)]
        finally:
            if hasattr(result, "close"):
                result.close()
    return wsgi


@pytest.fixture(scope="session")
def live_server(app):
    """The session app on a free port; yields its base URL."""
    server = make_server("127.0.0.1", 0, answered_whole(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server


@pytest.fixture(scope="session")
def browser_type_launch_args():
    """Debian's Chromium (Playwright's own download is not used). Missing: the browser tests
    skip, or fail when REQUIRE_BROWSER is set (CI)."""
    if not os.access(CHROMIUM, os.X_OK):
        message = f"no Chromium at {CHROMIUM}: apt-get install chromium fonts-noto-cjk"
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {
        **browser_context_args,
        "viewport": PHONE,
        "is_mobile": True,
        "has_touch": True,
        "locale": "zh-CN",
        "device_scale_factor": 2,
    }


@pytest.fixture(autouse=True)
def csrf_on(app):
    """The real CSRF wiring: hidden csrf_token fields and htmx's X-CSRFToken header.
    tests/conftest.py's clean_state switches it off again after the test."""
    app.config["WTF_CSRF_ENABLED"] = True


@pytest.fixture(scope="session")
def screenshot_dir(pytestconfig):
    """test-results/ at the project root (pytest-playwright empties its --output folder, by
    default the same test-results/, when the session starts, before any screenshot is taken)."""
    return pytestconfig.rootpath / "test-results"


@pytest.fixture
def snapshot(screenshot_dir):
    """snapshot(page, "login") saves test-results/login.png, the whole page."""
    def save(page, name):
        screenshot_dir.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot_dir / f"{name}.png"), full_page=True)
    return save



@pytest.fixture
def desk(browser, browser_context_args):
    """A page in a browser context of its own at 1280×800 (a reviewer at a desk), not a phone
    (new_context cannot override the phone settings of browser_context_args: it passes both)."""
    from tests.browser.pages import DESKTOP
    context = browser.new_context(**{**browser_context_args, **DESKTOP})
    yield context.new_page()
    context.close()
