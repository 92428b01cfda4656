#!/usr/bin/env python3
"""Benchmark of the archive import at provincial scale: 400,000 rows into a fresh PostgreSQL
database through `flask accounts import-archive`, the same code path as the administrators'
upload. Prints numbers beside the target; asserts nothing.

    .venv/bin/python bench/import_bench.py [--rows 400000] [--format csv|xlsx]
                                           [--database-url URL] [--problems 0.05]

Everything stays on 127.0.0.1. Steps:
  1. Generate the archive file in a temporary folder: valid 居民身份证 numbers (GB 11643 check
     digit, python-stdnum), names, 资格级别 in the spellings archives use (初级, 中级会计师, 会计师,
     高级会计师 …), certificate numbers, dates in the common Chinese forms; about 10 % of
     people have a second qualification (a second row), and --problems of the rows (5 %) carry
     one problem each (wrong check digit, an ID number Excel turned into 5.30102E+17, an
     unknown level, an impossible date, no certificate number, a name with markup).
  2. Drop and create the database (default kjxx_archive_bench on 127.0.0.1), `flask db upgrade`.
  3. Run `python -m flask --app wsgi accounts import-archive FILE` in a child process: wall
     time, rows per second, and the child's peak RSS (ru_maxrss from wait4).
  4. Run it again on the same file (every row unchanged or rejected again), timed the same way.
  5. Count what the database holds.
"""
import argparse
import csv
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kjxx_archive_bench"
TARGET_SECONDS = 300.0
HEADER = ["姓名", "证件号码", "资格级别", "证书编号", "取得日期"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红燕玲兰飞鹏波辉梅琳建国志春晓云海丹宇浩然子涵欣怡思远俊梓萱"
LEVELS = ["初级", "初级", "助理会计师", "中级", "中级会计师", "会计师", "高级", "高级会计师",
          "正高级会计师"]
SECOND_LEVEL = {"初级": "中级", "助理会计师": "会计师", "中级": "高级", "中级会计师": "高级会计师",
                "会计师": "高级会计师", "高级": "正高级", "高级会计师": "正高级会计师",
                "正高级会计师": "高级会计师"}
COUNTIES = ["530102", "530103", "530111", "530112", "530113", "530114", "530115", "530124",
            "530302", "530402", "530502", "530602", "530702", "530802", "532301", "532501",
            "532601", "532801", "532901", "533102", "533301", "533401"]


def log(*parts):
    print(*parts, flush=True)


def load_line() -> str:
    with open("/proc/loadavg") as f:
        one, five, fifteen = f.read().split()[:3]
    return f"load average {one} {five} {fifteen} on {os.cpu_count()} cores"


# --- the file ---------------------------------------------------------------------------------

def id_number(n: int) -> str:
    """A valid, distinct 居民身份证 number for each n < 16000 × 1000 (see demo.make_id_number)."""
    from stdnum.cn import ric
    born = date(1960, 1, 1) + timedelta(days=(n * 7919) % 16000)
    body = f"{COUNTIES[n % len(COUNTIES)]}{born:%Y%m%d}{(n // 16000) % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def date_text(rng: random.Random, day: date) -> str:
    form = rng.randrange(6)
    return [f"{day:%Y-%m-%d}", f"{day.year}年{day.month}月{day.day}日", f"{day:%Y/%m/%d}",
            f"{day.year}.{day.month}.{day.day}", f"{day:%Y%m%d}", f"{day.year}年{day.month:02d}月"][form]


def spoil(rng: random.Random, row: list) -> None:
    """One problem of the kinds real archive files have."""
    kind = rng.randrange(6)
    if kind == 0:
        digit = row[1][-1]
        row[1] = row[1][:-1] + ("0" if digit != "0" else "1")       # wrong check digit
    elif kind == 1:
        row[1] = f"{float(row[1][:17] + '0'):.5E}"                 # Excel: 5.30102E+17
    elif kind == 2:
        row[2] = "特级"
    elif kind == 3:
        row[4] = "2010年2月30日"
    elif kind == 4:
        row[3] = ""
    else:
        row[0] = "<b>" + row[0]


def rows(count: int, problems: float, seed: int):
    rng = random.Random(seed)
    n = 0
    made = 0
    while made < count:
        person = id_number(n)
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        level = rng.choice(LEVELS)
        levels = [level] + ([SECOND_LEVEL[level]] if rng.random() < 0.1 else [])
        for level in levels[:count - made]:
            day = date(1990, 1, 1) + timedelta(days=rng.randrange(12000))
            row = [name, person, level, f"{rng.choice('CZGS')}{n:09d}{len(level)}",
                   date_text(rng, day)]
            if rng.random() < problems:
                spoil(rng, row)
            made += 1
            yield row
        n += 1


def write_file(path: Path, fmt: str, count: int, problems: float, seed: int) -> None:
    if fmt == "xlsx":
        from openpyxl import Workbook
        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(HEADER)
        for row in rows(count, problems, seed):
            sheet.append(row)
        book.save(path)
        return
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(rows(count, problems, seed))


# --- the database -----------------------------------------------------------------------------

def libpq_url(url: str) -> str:
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def connect(url):
    import psycopg
    return psycopg.connect(libpq_url(url), autocommit=True)


def fresh_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.startswith("kjxx_archive"):
        raise SystemExit(f"refusing to drop {name!r}: the benchmark only drops kjxx_archive*")
    with connect(parts._replace(path="/postgres").geturl()) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    flask(url, "db", "upgrade")


def env_for(url: str) -> dict:
    env = dict(os.environ)
    env.pop("APP_ENV", None)
    env.pop("FLASK_APP", None)
    env.update(DATABASE_URL=url, PYTHONUNBUFFERED="1")
    return env


def flask(url: str, *args) -> None:
    subprocess.run([PYTHON, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env_for(url),
                   check=True, capture_output=True)


def counts(url: str) -> dict:
    with connect(url) as conn:
        return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("accounts", "archive_records")}


# --- the import -------------------------------------------------------------------------------

def timed_import(url: str, path: Path, output: Path) -> dict:
    """The CLI in a child process: wall seconds, its peak RSS, and the counts it printed."""
    started = time.perf_counter()
    errors = output.with_suffix(".err")
    with open(output, "w") as out, open(errors, "w") as err:
        child = subprocess.Popen([PYTHON, "-m", "flask", "--app", "wsgi", "accounts",
                                  "import-archive", str(path)], cwd=ROOT, env=env_for(url),
                                 stdout=out, stderr=err)
        _pid, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    text = output.read_text()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"import failed:\n{text[-1000:]}\n{errors.read_text()[-3000:]}")
    printed = {key: int(value) for key, value in
               re.findall(r"^(accepted|unchanged|rejected): (\d+)$", text, re.M)}
    return {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, **printed}


def report(label: str, rows_n: int, run: dict) -> None:
    mark = "ok" if run["seconds"] <= TARGET_SECONDS else "MISSED"
    log(f"{label:13} {run['seconds']:7.1f} s   {rows_n / run['seconds']:8.0f} rows/s   "
        f"peak RSS {run['peak_mb']:6.1f} MB   accepted {run.get('accepted')}  "
        f"unchanged {run.get('unchanged')}  rejected {run.get('rejected')}   "
        f"(target ≤ {TARGET_SECONDS:.0f} s: {mark})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                                 DEFAULT_URL))
    parser.add_argument("--problems", type=float, default=0.05, help="share of rows spoilt")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    log(load_line())
    with tempfile.TemporaryDirectory(prefix="import-bench-") as folder:
        path = Path(folder) / f"archive.{args.format}"
        started = time.perf_counter()
        write_file(path, args.format, args.rows, args.problems, args.seed)
        log(f"file: {args.rows} rows, {args.format}, {path.stat().st_size / 1048576:.1f} MB, "
            f"made in {time.perf_counter() - started:.1f} s")
        fresh_database(args.database_url)
        log(f"database: {urlsplit(args.database_url).path.lstrip('/')} (fresh, migrated)")
        first = timed_import(args.database_url, path, Path(folder) / "first.txt")
        report("first import", args.rows, first)
        second = timed_import(args.database_url, path, Path(folder) / "second.txt")
        report("second import", args.rows, second)
        stored = counts(args.database_url)
        log(f"stored: {stored['accounts']} accounts, {stored['archive_records']} archive records")
    log(load_line())


if __name__ == "__main__":
    main()
