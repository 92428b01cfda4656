"""The deadline surge as locust users, over HTTPS through nginx (the prod-local shape).

Runs in the load generator's own virtualenv (.venv-bench: locust and the standard library only);
everything it needs about the data comes from the plan that bench/surge/seed.py wrote:

    SURGE_PLAN=plan.json SURGE_LOG_DIR=dir locust -f bench/surge/locustfile.py --headless ...

Users (weights: what share of the requests each kind makes; see bench/README.md for why):
- Applicant: one sitting — log in, the task list, each of the four sections opened and saved,
  the materials page, two document uploads (a 150 KB JPEG each) and the 1-inch photo with its
  preview confirmed, the summary, 提交审核, log out. Then the next person.
- Returning: someone who submitted earlier logs in to see the result, and logs out.
- Reviewer: logged in all day; the pending list, a filter (own county, last 7 days), one
  application's detail and two of its photos, a decision (90 % approve), back to the list.
- Registrant: the SMS sender — the register page, 获取验证码, /sms-status polled every 2 s as
  htmx does, the code read from where the SMS backend delivers it, registration, log out.
- HelloUser (only when named on the command line): GET / without pause, the baseline.

Every request is logged (SURGE_LOG_DIR/requests-PID.tsv: start, endpoint, status, ms, outcome)
and every write the app answered as successful is journalled (writes-PID.jsonl) so a fault run
can look for each one in PostgreSQL afterwards. Outcomes: ok, conflict (409 of two reviewers
deciding one application: expected), app-503 (the app's clean Chinese 503 with Retry-After),
nginx-page (nginx's own Chinese error page), nginx-default (nginx's built-in page), traceback,
error (anything else: unexpected status or no answer)."""
import json
import os
import random
import re
import ssl
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import gevent
from locust import FastHttpUser, LoadTestShape, between, constant, events, task

PLAN = json.loads(Path(os.environ.get("SURGE_PLAN", "plan.json")).read_text(encoding="utf-8")) \
    if os.environ.get("SURGE_PLAN") else {}
LOG_DIR = Path(os.environ["SURGE_LOG_DIR"]) if os.environ.get("SURGE_LOG_DIR") else None
THINK = tuple(float(s) for s in os.environ.get("SURGE_THINK", "0.5,1.5").split(","))
RETRIES = int(os.environ.get("SURGE_RETRIES", "2"))        # a person presses again after a 503
RETRY_WAIT = float(os.environ.get("SURGE_RETRY_WAIT", "2"))
SMS_WAIT = float(os.environ.get("SURGE_SMS_WAIT", "90"))    # how long a person waits for a code
SECTIONS = ("basic", "work", "education", "qualification")
REDIRECTS = (301, 302, 303)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CODE = re.compile(r"验证码(\d{6})")
ENDPOINTS = [  # path → the name in the statistics
    (re.compile(r"^/collection/(basic|work|education|qualification)$"), "/collection/[section]"),
    (re.compile(r"^/collection/materials/id_photo/preview$"), "/collection/materials/id_photo/preview"),
    (re.compile(r"^/collection/materials/id_photo$"), "/collection/materials/id_photo"),
    (re.compile(r"^/collection/materials/[a-z_]+$"), "/collection/materials/[document]"),
    (re.compile(r"^/review/\d+/decide$"), "/review/[id]/decide"),
    (re.compile(r"^/review/\d+$"), "/review/[id]"),
    (re.compile(r"^/media/materials/\d+\.jpg$"), "/media/materials/[id].jpg"),
]


# -- what every request leaves behind ---------------------------------------------------------

class Journal:
    """Per process (files opened by the process that writes, after --processes forks): one line
    per request, one JSON line per acknowledged write."""

    def __init__(self, folder: Path | None):
        self.folder, self.pid = folder, None
        self.requests = self.writes = None

    def _open(self) -> bool:
        if self.folder is None:
            return False
        if self.pid != os.getpid():
            self.folder.mkdir(parents=True, exist_ok=True)
            self.pid = os.getpid()
            self.requests = open(self.folder / f"requests-{self.pid}.tsv", "a",
                                 buffering=1 << 16, encoding="utf-8")
            self.writes = open(self.folder / f"writes-{self.pid}.jsonl", "a", buffering=1,
                               encoding="utf-8")
        return True

    def request(self, started: float, name: str, status: int, ms: float, outcome: str) -> None:
        if self._open():
            self.requests.write(f"{started:.3f}\t{name}\t{status}\t{ms:.1f}\t{outcome}\n")

    def write(self, what: str, **details) -> None:
        if self._open():
            self.writes.write(json.dumps({"at": time.time(), "what": what, **details},
                                         ensure_ascii=False) + "\n")

    def close(self) -> None:
        if self.pid == os.getpid():
            self.requests.flush()
            self.writes.flush()


JOURNAL = Journal(LOG_DIR)


@events.quitting.add_listener
def _flush(**_kwargs):
    JOURNAL.close()


@events.test_stop.add_listener
def _flush_at_stop(**_kwargs):
    JOURNAL.close()


def outcome_of(status: int, text: str, headers, expected) -> str:
    if status in expected:
        return "ok"
    if "Traceback" in text or "werkzeug" in text.lower():
        return "traceback"
    if "<center>nginx</center>" in text:
        return "nginx-default"
    if "系统暂时无法访问" in text:
        return "app-503" if status == 503 and headers.get("Retry-After") else "nginx-page"
    return "error"


def endpoint_name(path: str, label: str = "") -> str:
    bare = path.split("?", 1)[0]
    for pattern, name in ENDPOINTS:
        if pattern.match(bare):
            bare = name
            break
    return f"{bare}{label}"


# -- the shared pools, split between locust processes -----------------------------------------

class Pool:
    """People to play, taken in turn; with --processes each process takes its own share."""

    def __init__(self, items):
        self.items, self.next = list(items), 0
        self.share = None

    def take(self, environment):
        if self.share is None:
            index = getattr(environment.runner, "worker_index", 0) or 0
            count = int(os.environ.get("SURGE_PROCESSES", "1") or 1)
            self.share = self.items[index::count]
        if self.next >= len(self.share):
            return None
        self.next += 1
        return self.share[self.next - 1]


APPLICANTS = Pool(PLAN.get("applicants", []))
REVIEWERS = Pool(PLAN.get("reviewers", []))


class SmsInbox:
    """Codes as the SMS backend delivered them (outbox or Twilio stand-in log), read as the file
    grows; phone → newest code."""

    def __init__(self, path: str | None):
        self.path, self.offset, self.codes = Path(path) if path else None, 0, {}
        # codes of earlier runs and of the seeding are not this run's: start at the file's end
        if self.path is not None and self.path.exists():
            self.offset = self.path.stat().st_size

    def code_for(self, phone: str) -> str | None:
        if self.path is not None and self.path.exists():
            with open(self.path, encoding="utf-8") as handle:
                handle.seek(self.offset)
                for line in handle:
                    if not line.endswith("\n"):
                        break
                    self.offset += len(line.encode("utf-8"))
                    message = json.loads(line)
                    found = CODE.search(message.get("body", ""))
                    # the stand-in logs what it refused too (status 500): never delivered
                    if found and message.get("status", 201) < 300:
                        self.codes[message["to"].removeprefix("+86")] = found.group(1)
        return self.codes.pop(phone, None)

    def wait_for(self, phone: str, seconds: float = 20) -> str | None:
        """The worker delivers the code a moment after the request: look until it is there."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            code = self.code_for(phone)
            if code:
                return code
            time.sleep(0.2)  # cooperative under locust's gevent
        return None


INBOX = SmsInbox(PLAN.get("sms_log"))


def verified_context():
    """nginx's self-signed certificate is the CA: verify it, as a phone would verify a real one."""
    return ssl.create_default_context(cafile=PLAN["ca"])


class Abandon(Exception):
    """The person gives up this sitting (the page kept failing); they come back later."""


# -- one person in a browser -----------------------------------------------------------------

class Person(FastHttpUser):
    abstract = True
    insecure = False
    ssl_context_factory = staticmethod(verified_context) if PLAN.get("ca") else None
    network_timeout = 60.0
    connection_timeout = 10.0

    def on_start(self):
        self.token = None

    def think(self):
        gevent.sleep(random.uniform(*THINK))

    def call(self, method, path, expected=(200,), data=None, files=None, label="", headers=None,
             conflict=False):
        """One request; a clean 503 is retried like a person pressing again; anything else not
        expected abandons the sitting. `conflict`: a 409 is an expected answer. Returns the
        response."""
        for attempt in range(RETRIES + 1):
            response, outcome = self._once(method, path, expected, data, files, label, headers,
                                           conflict)
            if outcome in ("ok", "conflict"):
                return response
            if outcome not in ("app-503", "nginx-page") or attempt == RETRIES:
                raise Abandon(f"{method} {path}: {outcome} {response.status_code}")
            gevent.sleep(RETRY_WAIT)
        raise AssertionError("unreachable")

    def _once(self, method, path, expected, data, files, label, headers, conflict):
        name = endpoint_name(path, label)
        request_headers = dict(headers or {})
        payload = data
        if method == "POST":
            fields = dict(data or {}, csrf_token=self.token or "")
            request_headers["Referer"] = self.host + path.split("?", 1)[0]
            if files:
                payload = fields
            else:
                payload = urlencode(fields, doseq=True).encode()
                request_headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.time()
        with self.client.request(method, path, name=name, data=payload, files=files,
                                 headers=request_headers, allow_redirects=False,
                                 catch_response=True) as response:
            status = response.status_code or 0
            headers = response.headers or {}
            text = (response.text or "") if status and not \
                headers.get("Content-Type", "").startswith("image/") else ""
            outcome = "conflict" if conflict and status == 409 else \
                outcome_of(status, text, headers, expected)
            if outcome in ("ok", "conflict"):
                response.success()
            else:
                response.failure(f"{outcome} {status}")
            JOURNAL.request(started, f"{method} {name}", status,
                            response.request_meta["response_time"], outcome)
        if status == 200:
            found = CSRF.search(text)
            if found:
                self.token = found.group(1)
        return response, outcome

    def get(self, path, expected=(200,), **kwargs):
        return self.call("GET", path, expected, **kwargs)

    def post(self, path, data=None, expected=(303,), **kwargs):
        return self.call("POST", path, expected, data=data, **kwargs)

    def follow(self, response):
        """A browser follows a redirect with a GET of its Location."""
        while response.status_code in REDIRECTS:
            location = urlsplit(response.headers["Location"])
            path = location.path + (f"?{location.query}" if location.query else "")
            response = self.get(path, (200, *REDIRECTS))
        return response

    def fresh_browser(self):
        """Each sitting is another person's phone: no cookies from the one before."""
        self.client.cookiejar.clear()
        self.token = None

    def log_in(self, id_number, password, phone=None):
        self.fresh_browser()
        self.get("/login")
        self.think()
        response = self.post("/login", {"id_number": id_number, "password": password,
                                        "captcha": PLAN["captcha"]})
        if phone and response.headers.get("Location", "").endswith("/login/verify"):
            # staff: the code sent to their phone, typed on its own page (the second factor)
            self.get("/login/verify")
            code = INBOX.wait_for(phone)
            if code is None:
                raise Abandon()
            response = self.post("/login/verify", {"sms_code": code})
        return self.follow(response)

    def log_out(self):
        self.follow(self.post("/logout"))

    def check_result(self):
        """Submitted earlier: log in, look at the summary, log out."""
        try:
            self.log_in(random.choice(PLAN["returning"]), PLAN["demo_password"])
            self.think()
            self.get("/collection/summary")
            self.think()
            self.log_out()
        except Abandon:
            pass


class Applicant(Person):
    """The sitting before the deadline: finish the sections and photos, submit."""
    weight = 50
    wait_time = between(1, 3)

    @task
    def sitting(self):
        person = APPLICANTS.take(self.environment)
        if person is None:  # everyone prepared has submitted: come back as a returning person
            return self.check_result()
        try:
            self.finish(person)
        except Abandon:
            pass

    def finish(self, person):
        self.log_in(person["id"], PLAN["password"])
        account = person["id"]
        answers = PLAN["answers"][person["county"]]
        for key in SECTIONS:
            self.think()
            self.get(f"/collection/{key}")
            self.think()
            data, token = with_token(key, answers[key])
            saved = self.post(f"/collection/{key}", data)
            JOURNAL.write("section", account=account, key=key, token=token)
            self.follow(saved)
        self.think()
        self.get("/collection/materials")
        for kind in person["uploads"]:
            self.think()
            self.upload(account, kind)
        self.think()
        self.get("/collection/summary")
        self.think()
        submitted = self.post("/collection/submit")
        page = self.follow(submitted)
        JOURNAL.write("submission", account=account, confirmed="审核中" in (page.text or ""))
        self.think()
        self.log_out()

    def upload(self, account, kind):
        picture = PICTURES["portrait" if kind == "id_photo" else "document"]
        answer = self.post(f"/collection/materials/{kind}",
                           files={"photo": (f"{kind}.jpg", picture, "image/jpeg")})
        if kind != "id_photo":
            JOURNAL.write("material", account=account, kind=kind)
            self.follow(answer)
            return
        self.follow(answer)  # the preview of the cropped photo
        self.think()
        confirmed = self.post("/collection/materials/id_photo/preview")
        JOURNAL.write("material", account=account, kind=kind)
        self.follow(confirmed)


PICTURES = {name: Path(PLAN["pictures"][name]).read_bytes() for name in ("document", "portrait")} \
    if PLAN else {}


def with_token(key: str, answers: dict) -> tuple[dict, str]:
    """The section's answers with one field made unique, so the saved row can be recognised."""
    token = f"{random.randrange(10**8):08d}"
    data = dict(answers)
    if key == "basic":
        data["address"] = f"昆明市五华区人民中路{token}号"
    elif key == "work":
        data["unit_name"] = f"云南{token}会计服务有限公司"
    elif key == "education":
        data["full_time-certificate_number"] = f"1068912012{token}"
    else:
        data["records-0-certificate_number"] = f"Z{token}"
    return data, token


class Returning(Person):
    """Submitted earlier; logs in to see whether it was approved."""
    weight = 8
    wait_time = between(1, 3)

    @task
    def visit(self):
        self.check_result()


class Reviewer(Person):
    """A county (or prefecture) bureau's reviewer at work."""
    weight = 35
    wait_time = between(1, 3)

    def on_start(self):
        super().on_start()
        self.me = REVIEWERS.take(self.environment) or random.choice(PLAN["reviewers"])
        self.logged_in = False

    @task
    def review_one(self):
        try:
            if not self.logged_in:
                self.log_in(self.me["id"], PLAN["password"], self.me.get("phone"))
                self.logged_in = True
            self.decide_one()
        except Abandon:
            pass

    def decide_one(self):
        listing = self.get("/review?status=pending")
        ids = re.findall(r'href="/review/(\d+)"', listing.text or "")
        self.think()
        today = date.today()
        query = urlencode({"status": "pending", "county": random.choice(self.me["counties"]),
                           "date_from": (today - timedelta(days=7)).isoformat(),
                           "date_to": today.isoformat()})
        filtered = self.get(f"/review?{query}", label="?filter")
        ids = re.findall(r'href="/review/(\d+)"', filtered.text or "") or ids
        if not ids:
            return
        self.think()
        application = random.choice(ids)
        detail = self.get(f"/review/{application}")
        for material in re.findall(r'src="(/media/materials/\d+\.jpg)"', detail.text or "")[:2]:
            self.get(material)
        self.think()
        approve = random.random() < 0.9
        decision = {"decision": "approve"} if approve else {
            "decision": "reject", "reasons": PLAN["reject_reasons"], "reopen": ["materials"]}
        answer = self.post(f"/review/{application}/decide", decision, conflict=True)
        if answer.status_code == 303:
            JOURNAL.write("decision", application=int(application), approved=approve,
                          reviewer=self.me["id"])
        self.follow(answer)


class Registrant(Person):
    """Someone who never registered: the SMS code is the step that can go wrong."""
    weight = 7
    wait_time = between(1, 3)

    @task
    def register(self):
        try:
            self.sign_up()
        except Abandon:
            pass

    def sign_up(self):
        id_number, phone = new_identity()
        self.fresh_browser()
        self.get("/register")
        self.think()
        asked = time.time()
        try:
            sent = self.post("/register/send-code", {"phone": phone, "captcha": PLAN["captcha"]},
                             expected=(200,), label=" (send code)")
        except Abandon:
            JOURNAL.write("sms_refused", phone=phone)
            raise
        JOURNAL.write("sms_asked", phone=phone, ms=sent.request_meta["response_time"])
        outcome, saw = self.wait_for_delivery(sent.text or "")
        JOURNAL.write("sms_result", phone=phone, outcome=outcome, seconds=time.time() - asked,
                      saw=sorted(saw))
        if outcome != "sent":
            return
        code = None
        deadline = time.time() + 15
        while code is None and time.time() < deadline:
            code = INBOX.code_for(phone)
            if code is None:
                gevent.sleep(0.5)
        if code is None:
            JOURNAL.write("sms_missing", phone=phone)
            return
        self.think()
        answer = self.post("/register", {
            "id_type": "居民身份证", "id_number": id_number, "name": "李明", "phone": phone,
            "captcha": PLAN["captcha"], "sms_code": code, "password": PLAN["password"],
            "password2": PLAN["password"], "consent": "y"},
            label=" (register)", conflict=True)
        if answer.status_code == 303:
            JOURNAL.write("registration", account=id_number, phone=phone)
            self.follow(answer)
            self.think()
            self.log_out()

    def wait_for_delivery(self, text):
        """Poll /sms-status every 2 s, as the page does, until the line stops saying 正在发送."""
        saw = set()
        deadline = time.time() + SMS_WAIT
        while True:
            if "已发送" in text:
                return "sent", saw
            if "短信发送失败" in text:
                return "failed", saw | {"failed"}
            if "正在发送" in text:
                saw.add("sending")
            if "正在重试" in text:
                saw.add("retrying")
            if time.time() > deadline:
                return "timeout", saw
            gevent.sleep(2)
            status = self.get("/sms-status", expected=(200, 204), headers={"HX-Request": "true"})
            if status.status_code == 204:
                return "no job", saw
            text = status.text or ""


def new_identity() -> tuple[str, str]:
    """A valid 居民身份证 number born outside Yunnan (no seeded number starts so) and a phone."""
    region = random.choice(("110101", "310101", "320102", "330102", "440103", "500101",
                            "510104", "520102", "610102"))
    born = date(1960, 1, 1) + timedelta(days=random.randrange(14600))
    body = f"{region}{born:%Y%m%d}{random.randrange(1000):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    return body + check, f"18{random.randrange(10**9):09d}"


if os.environ.get("SURGE_HELLO"):
    class HelloUser(FastHttpUser):
        """The baseline: a bare Flask app's GET /, no pause (run: locust ... HelloUser)."""
        wait_time = constant(0)
        insecure = False
        ssl_context_factory = staticmethod(verified_context) if PLAN.get("ca") else None

        @task
        def hello(self):
            started = time.time()
            with self.client.get("/", name="/ (hello)", catch_response=True) as response:
                outcome = "ok" if response.status_code == 200 else "error"
                if outcome != "ok":
                    response.failure(f"{response.status_code}")
                JOURNAL.request(started, "GET / (hello)", response.status_code or 0,
                                response.request_meta["response_time"], outcome)


if os.environ.get("SURGE_WEIGHTS"):  # e.g. "Applicant=20,Registrant=10" for a fault run
    for part in os.environ["SURGE_WEIGHTS"].split(","):
        name, _, weight = part.partition("=")
        globals()[name.strip()].weight = int(weight)


if os.environ.get("SURGE_STAGES"):
    class Stages(LoadTestShape):
        """SURGE_STAGES="100:30,200:30,300:60": users and seconds of each stage, in order."""
        stages = [tuple(int(n) for n in part.split(":"))
                  for part in os.environ["SURGE_STAGES"].split(",")]
        spawn_rate = float(os.environ.get("SURGE_SPAWN_RATE", "50"))

        def tick(self):
            elapsed, end = self.get_run_time(), 0
            for users, seconds in self.stages:
                end += seconds
                if elapsed < end:
                    return users, self.spawn_rate
            return None
