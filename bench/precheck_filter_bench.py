#!/usr/bin/env python3
"""The reviewer list's filter 机器核对有疑点 on PostgreSQL with many applications: what a page and
its capped count cost with the filter, beside the list without it, and without the filter's
partial indexes (dropped inside a transaction that is rolled back). Prints numbers; asserts
nothing.

    .venv/bin/python bench/precheck_filter_bench.py [--database-url URL] [--applications 500000]
                                                    [--doubt-share 0.03] [--repeat 20]

The database (default kjxx_precheck_bench on 127.0.0.1) is dropped and made again, migrated,
and filled by SQL in a few seconds: applications spread over Yunnan's 129 counties, submitted a
minute apart; the oldest 70 % approved, then 5 % rejected, the newest 25 % pending (as in a real
table, the pending rows sit at the end); --doubt-share of them with a doubt. Each query is the
SQL the list issues (domain/review_queue.py, captured with its parameters inlined), run with
EXPLAIN ANALYZE --repeat times; the median execution time is printed.
"""
import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kjxx_precheck_bench"
DOUBT_INDEXES = ("ix_applications_doubt_jurisdiction", "ix_applications_doubt_prefecture",
                 "ix_applications_doubt_province")
LEVELS = (("province", "530000"), ("prefecture", "530100"), ("county", "530102"))
TARGET_MS = 30.0


def log(*parts):
    print(*parts, flush=True)


def seed(connection, applications: int, doubt_share: float) -> None:
    import sqlalchemy as sa
    started = time.perf_counter()
    counties = [row[0] for row in connection.execute(sa.text(
        "SELECT code FROM regions WHERE level = 'county' ORDER BY code"))]
    connection.execute(sa.text("""
        INSERT INTO accounts (id, role, id_type, id_number, name, phone, password_hash,
                              must_bind_phone, must_change_password, is_enabled, failed_logins,
                              imported, created_at, password_changed_at)
        SELECT n, 'applicant', '居民身份证', lpad(n::text, 18, '0'), '张三',
               '13' || lpad(n::text, 9, '0'), 'x', false, false, true, 0, false, now(), now()
        FROM generate_series(1, :n) AS n"""), {"n": applications})
    connection.execute(sa.text("""
        INSERT INTO applications (id, account_id, status, jurisdiction_code, prefecture_code,
                                  submitted_at, decided_at, created_at, updated_at,
                                  precheck_doubt)
        SELECT n, n,
               CASE WHEN n <= :n * 0.70 THEN 'approved'
                    WHEN n <= :n * 0.75 THEN 'rejected' ELSE 'pending' END,
               c.code, substr(c.code, 1, 4) || '00',
               timestamp '2025-01-01' + n * interval '1 minute',
               CASE WHEN n <= :n * 0.75 THEN timestamp '2025-01-02' + n * interval '1 minute' END,
               now(), now(),
               (hashtext(n::text) & 1023) < :doubt
        FROM generate_series(1, :n) AS n
        JOIN unnest(CAST(:counties AS text[])) WITH ORDINALITY AS c(code, i)
          ON c.i = 1 + (hashtext('county' || n) & 2147483647) % :k"""),
        {"n": applications, "doubt": round(doubt_share * 1024), "counties": counties,
         "k": len(counties)})
    connection.execute(sa.text("SELECT setval('accounts_id_seq', :n)"), {"n": applications})
    connection.execute(sa.text("SELECT setval('applications_id_seq', :n)"), {"n": applications})
    connection.commit()
    log(f"seeded {applications} applications in {time.perf_counter() - started:.1f} s")


def statements(app, region_code: str, doubt: bool, deep_pages: int) -> dict[str, str]:
    """The SQL of the first page, of a page `deep_pages` on, and of the capped count, with the
    parameters inlined, as the list issues them."""
    import sqlalchemy as sa

    from domain import review_queue
    from extensions import db
    from models import Region
    captured = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        captured.append((statement, parameters))

    with app.app_context():
        region = db.session.get(Region, region_code)
        list_filter = review_queue.ListFilter(doubt=doubt)
        cursor, reached = None, 1
        for _ in range(deep_pages):     # as far as the list goes, at most deep_pages on
            following = review_queue.page(region, list_filter, after=cursor).next_cursor
            if following is None:
                break
            cursor, reached = following, reached + 1
        sa.event.listen(db.engine, "before_cursor_execute", capture)
        try:
            review_queue.page(region, list_filter)
            first = captured[:]
            captured.clear()
            review_queue.page(region, list_filter, after=cursor)
            deep = captured[:]
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", capture)
        db.session.remove()
    return {"first page": inline(first[0]), "count": inline(first[1]),
            "deep page": inline(deep[0]), "reached": reached}


def inline(captured) -> str:
    from psycopg.sql import Literal
    statement, parameters = captured
    for name, value in (parameters or {}).items():
        statement = statement.replace(f"%({name})s", Literal(value).as_string(None))
    return statement


def median_ms(connection, sql: str, repeat: int) -> tuple[float, str]:
    import sqlalchemy as sa
    times, plan = [], ""
    for _ in range(repeat):
        rows = connection.execute(sa.text("EXPLAIN (ANALYZE, BUFFERS) " + sql.replace(":", r"\:")))
        plan = "\n".join(row[0] for row in rows)
        times.append(float(re.search(r"Execution Time: ([\d.]+) ms", plan).group(1)))
    return statistics.median(times), plan


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--applications", type=int, default=500_000)
    parser.add_argument("--doubt-share", type=float, default=0.03)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--deep-pages", type=int, default=20)
    parser.add_argument("--plans", action="store_true", help="print the plans of the filter")
    args = parser.parse_args()

    from bench.bench_db import fresh_database
    log(f"database {args.database_url.rsplit('/', 1)[1]}: dropped, migrated, regions loaded")
    fresh_database(args.database_url)
    os.environ.update(DATABASE_URL=args.database_url, APP_ENV="development")
    import sqlalchemy as sa

    from app import create_app
    app = create_app()
    engine = sa.create_engine(args.database_url)
    with engine.connect() as connection:
        seed(connection, args.applications, args.doubt_share)
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(
            sa.text("VACUUM ANALYZE applications"))
        counts = connection.execute(sa.text(
            "SELECT status, count(*), count(*) FILTER (WHERE precheck_doubt) FROM applications "
            "GROUP BY status ORDER BY status")).all()
    log("rows by status (all / with a doubt): " +
        ", ".join(f"{status} {total} / {doubtful}" for status, total, doubtful in counts))
    with open("/proc/loadavg") as f:
        log(f"load average {' '.join(f.read().split()[:3])} on {os.cpu_count()} cores")
    log(f"median of {args.repeat} EXPLAIN ANALYZE execution times, 待审核 tab; target "
        f"{TARGET_MS:.0f} ms a query")
    log(f"{'reviewer':<11} {'query':<10} {'no filter':>10} {'有疑点':>10} {'有疑点, no partial':>20}")
    for level, code in LEVELS:
        plain = statements(app, code, False, args.deep_pages)
        doubt = statements(app, code, True, args.deep_pages)
        reached = (plain.pop("reached"), doubt.pop("reached"))
        with engine.connect() as connection:
            results = {}
            for query, sql in doubt.items():
                results[query] = [median_ms(connection, plain[query], args.repeat)[0],
                                  *median_ms(connection, sql, args.repeat)]
            connection.rollback()
            for name in DOUBT_INDEXES:            # rolled back below: the indexes stay
                connection.execute(sa.text(f"DROP INDEX {name}"))
            for query, sql in doubt.items():
                results[query].append(median_ms(connection, sql, max(3, args.repeat // 4))[0])
            connection.rollback()
        for query, (without, with_filter, plan, no_partial) in results.items():
            log(f"{level:<11} {query:<10} {without:>8.2f}ms {with_filter:>8.2f}ms "
                f"{no_partial:>18.2f}ms")
            if args.plans:
                log("    " + plan.replace("\n", "\n    "))
        log(f"{'':<11} (deep page: page {reached[0]} without the filter, {reached[1]} with it: "
            f"the last, or --deep-pages + 1)")
    engine.dispose()


if __name__ == "__main__":
    main()
