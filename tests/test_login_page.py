"""The first-visit login page is rendered once per process with a placeholder for its CSRF
token; each visitor gets the page with their own token, which works for their own session."""
import re

from tests.helpers import CAPTCHA, body


def token(response) -> list[str]:
    return re.findall(r'name="csrf_token" value="([^"]+)"', body(response)) + \
        re.findall(r'"X-CSRFToken": "([^"]+)"', body(response))


def test_each_visitor_gets_their_own_working_token(app):
    app.config["WTF_CSRF_ENABLED"] = True
    first, second = app.test_client(), app.test_client()
    page_one, page_two = first.get("/login"), second.get("/login")
    tokens_one, tokens_two = token(page_one), token(page_two)
    assert "@@" not in body(page_one) and len(set(tokens_one)) == 1
    assert tokens_one[0] != tokens_two[0]
    assert body(page_one).replace(tokens_one[0], "T") == body(page_two).replace(tokens_two[0], "T")
    attempt = {"id_number": "530102199001011234", "password": "x", "captcha": CAPTCHA}
    # a visitor's own token passes CSRF (the answer is about the password, 422) ...
    assert first.post("/login", data={**attempt, "csrf_token": tokens_one[0]}).status_code == 422
    # ... the other visitor's token does not
    assert second.post("/login", data={**attempt, "csrf_token": tokens_one[0]}).status_code == 400


def test_a_page_with_messages_or_a_next_is_rendered_afresh(app, client):
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "您已安全退出。")]
    assert "您已安全退出。" in body(client.get("/login"))
    assert "您已安全退出。" not in body(client.get("/login"))  # shown once
    assert 'value="/collection"' in body(client.get("/login?next=/collection"))
