#!/usr/bin/env python3
"""Where a logged-in page's time goes: the deadline pages served in-process (Flask's test client,
PostgreSQL, the same data as bench/pages_bench.py), each requested --requests times under
cProfile. Prints per page the mean wall and CPU milliseconds per request, the SQL statements per
request, and the functions with the most cumulative time. Asserts nothing.

    .venv/bin/python bench/profile_pages.py [--requests 300] [--top 25] [--page "task list"]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/kjxx_pages]
"""
import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import sqlalchemy as sa  # noqa: E402
from pages_bench import CAPTCHA, prepare  # noqa: E402

PAGES = [("login page", "/login", None), ("task list", "/collection", "applicant"),
         ("section page", "/collection/work", "applicant"), ("review list", "/review", "reviewer")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="cumulative", help="cumulative or tottime")
    parser.add_argument("--page", action="append", help="only this page (repeatable)")
    parser.add_argument("--applications", type=int, default=500)
    parser.add_argument("--database-url",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/kjxx_pages")
    args = parser.parse_args()
    app, applicant, reviewer = prepare(args.database_url, args.applications)
    from extensions import db
    from tests.factories import log_in
    app.config.update(WTF_CSRF_ENABLED=False, CAPTCHA_TEST_ANSWER=CAPTCHA)
    clients = {"applicant": app.test_client(), "reviewer": app.test_client(),
               None: app.test_client()}
    log_in(clients["applicant"], applicant)
    log_in(clients["reviewer"], reviewer)
    with app.app_context():
        engine = db.engine
    statements = []
    sa.event.listen(engine, "before_cursor_execute",
                    lambda _c, _cur, statement, *_a: statements.append(statement))
    for name, path, who in PAGES:
        if args.page and name not in args.page:
            continue
        client = clients[who]
        for _ in range(20):   # warm: templates compiled, pool filled, caches loaded
            assert client.get(path).status_code == 200, (name, path)
        statements.clear()
        profile = cProfile.Profile()
        wall, cpu = time.perf_counter(), time.process_time()
        profile.enable()
        for _ in range(args.requests):
            client.get(path)
        profile.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"\n== {name} ({path}): {wall / args.requests * 1000:.2f} ms wall, "
              f"{cpu / args.requests * 1000:.2f} ms CPU, "
              f"{len(statements) / args.requests:.1f} SQL statements per request")
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(args.sort).print_stats(args.top)
        print("\n".join(line for line in out.getvalue().splitlines()
                        if line.strip())[:6000])


if __name__ == "__main__":
    main()
