"""Test helpers: valid identity numbers, the SMS outbox, and filling in the real forms."""
import json
import re
from pathlib import Path

from stdnum.cn import ric

PASSWORD = "Yunnan#2026kj"
CAPTCHA = "TEST"


def make_id(region="530102", birth="19900101", seq="123") -> str:
    body = f"{region}{birth}{seq}"
    return body + ric.calc_check_digit(body + "0")


def outbox_messages(path) -> list[dict]:
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def last_code(path, phone) -> str:
    for message in reversed(outbox_messages(path)):
        if message["to"] == phone:
            return re.search(r"验证码(\d{6})", message["body"]).group(1)
    raise AssertionError(f"no SMS to {phone} in the outbox")


def htmx(extra=None) -> dict:
    headers = {"HX-Request": "true"}
    headers.update(extra or {})
    return headers


def registration_data(id_number, phone, name="张三", **overrides) -> dict:
    data = {
        "id_type": "居民身份证", "id_number": id_number, "name": name, "phone": phone,
        "captcha": "", "sms_code": "", "password": PASSWORD, "password2": PASSWORD,
        "consent": "y", "action": "register",
    }
    data.update(overrides)
    return data


def send_code(client, url, phone, **fields):
    """Press 获取验证码 on the form at `url` (it posts the form to url + "/send-code")."""
    data = {"phone": phone, "captcha": CAPTCHA}
    data.update(fields)
    return client.post(f"{url}/send-code", data=data)


def register(client, outbox, id_number, phone, name="张三", password=PASSWORD):
    response = send_code(client, "/register", phone)
    assert response.status_code == 200, response.get_data(as_text=True)
    code = last_code(outbox, phone)
    return client.post("/register", data=registration_data(
        id_number, phone, name, sms_code=code, password=password, password2=password))


def login(client, id_number, password=PASSWORD, second_factor=True):
    """POST /login. For staff, whom the app then asks for the code sent to their phone, the
    code is read from the outbox and typed too (second_factor=False stops at that page)."""
    response = client.post("/login", data={"id_number": id_number, "password": password,
                                           "captcha": CAPTCHA})
    if second_factor and response.status_code == 303 and \
            response.headers["Location"].endswith("/login/verify"):
        return confirm_second_factor(client, id_number)
    return response


def confirm_second_factor(client, id_number):
    """Type the staff login code from the outbox (asking again if the phone's minute limit
    kept a new one from being sent)."""
    from domain.accounts import find_by_id_number
    from extensions import db
    app = client.application
    with app.app_context():
        phone = find_by_id_number(id_number).phone
        db.session.remove()
    outbox = app.config["SMS_OUTBOX"]
    page = client.get("/login/verify").get_data(as_text=True)
    if "过于频繁" in page:
        app.extensions["moving_window_limiter"].storage.reset()
        client.post("/login/verify/send-code")
    return client.post("/login/verify", data={"sms_code": last_code(outbox, phone)})


def body(response) -> str:
    return response.get_data(as_text=True)


def seeded_applicant(app, phone="13800001111", password=PASSWORD, **id_parts) -> str:
    """An applicant created directly in the database (no SMS spent on the phone)."""
    from domain import accounts
    from extensions import db
    from models import Account
    id_number = make_id(**id_parts)
    with app.app_context():
        db.session.add(Account(role="applicant", id_type="居民身份证", id_number=id_number,
                               name="张三", phone=phone,
                               password_hash=accounts.hasher().hash(password)))
        db.session.commit()
        db.session.remove()
    return id_number


def full_export(client, **query):
    """导出Excel with the numbers in full: the box ticked and a reason given."""
    return client.post("/review/export.xlsx", query_string=query,
                       data={"full": "y", "reason": "核对名单"})
