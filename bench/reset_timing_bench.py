#!/usr/bin/env python3
"""Does the forgot-password send take the same time whether or not the ID number and phone belong
together? It must: otherwise its timing tells an attacker which pairs are real.

Runs the app in this process (SQLite in a temporary folder, production argon2 settings) with a
job runner that only records jobs — as in production, where the worker delivers later — and
times --rounds sends of each kind, interleaved: the ID and phone of a real account, and a
made-up ID number with the same phone. Prints the medians, their difference and the
difference's share of a median, beside the spread of each. Asserts nothing.

    .venv/bin/python bench/reset_timing_bench.py [--rounds 400]
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=400)
    args = parser.parse_args()
    from flask_migrate import upgrade

    from app import create_app
    from config import TestConfig
    from domain.regions import load_regions
    from tests.helpers import CAPTCHA, make_id, seeded_applicant

    folder = Path(tempfile.mkdtemp())

    class Bench(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{folder / 'bench.db'}"
        SMS_OUTBOX = str(folder / "outbox.jsonl")
        CAPTCHA_TEST_ANSWER = CAPTCHA
        WTF_CSRF_ENABLED = False
        RESET_IP_LIMIT = "1000000 per hour"
        SMS_IP_LIMITS = "1000000 per hour"
        SMS_PHONE_LIMITS = "1000000 per hour"
        ARGON2_MEMORY_COST, ARGON2_TIME_COST = 19456, 2

    app = create_app(Bench)
    with app.app_context():
        upgrade()
        load_regions()

    class Recording:  # the queue: jobs wait for the worker, as in production
        def push(self, job_id, kind=""):
            pass

    app.extensions["jobs"] = Recording()
    phone = "13900001111"
    owner = seeded_applicant(app, phone=phone)
    stranger = make_id(seq="987")
    client = app.test_client()
    timings = {"matching pair": [], "made-up ID": []}
    for _ in range(20):  # warm-up
        client.post("/forgot-password/send-code", data={
            "phone": phone, "captcha": CAPTCHA, "id_number": owner})
    for _ in range(args.rounds):
        for label, id_number in (("matching pair", owner), ("made-up ID", stranger)):
            started = time.perf_counter()
            response = client.post("/forgot-password/send-code", data={
                "phone": phone, "captcha": CAPTCHA, "id_number": id_number})
            timings[label].append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
    medians = {label: statistics.median(values) * 1000 for label, values in timings.items()}
    for label, values in timings.items():
        quartiles = statistics.quantiles([v * 1000 for v in values], n=4)
        print(f"{label:14} median {medians[label]:6.2f} ms   quartiles "
              f"{quartiles[0]:6.2f} – {quartiles[2]:6.2f} ms   ({len(values)} requests)")
    difference = medians["matching pair"] - medians["made-up ID"]
    print(f"difference of the medians: {difference:+.3f} ms "
          f"({difference / medians['made-up ID'] * 100:+.1f} % of a request)")


if __name__ == "__main__":
    main()
