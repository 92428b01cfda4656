#!/usr/bin/env python3
"""What one accountant costs on disk in PostgreSQL, and what 400,000 would.

Builds N complete, submitted applications in a fresh PostgreSQL database (default kjxx_capacity,
dropped and made again), each with the answers of a typical person (employed, one full-time
degree, one qualification) and the materials those answers require, the photos being real
12 MP camera pictures put through the app's own pipeline (domain.images: ≤ 200 KB documents,
≤ 20 KB 1-inch photo) — a few distinct pictures, reused. Then it reads each table's size
(pg_total_relation_size: heap, TOAST and indexes) after VACUUM ANALYZE, and prints bytes and
rows per person and the extrapolation to 400,000 people. Asserts nothing.

    .venv/bin/python bench/capacity_bench.py [--people 500] [--database-url URL]
"""
import argparse
import os
import statistics
import sys
import time
from hashlib import sha256
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import sqlalchemy as sa  # noqa: E402
from bench_db import fresh_database  # noqa: E402

PROVINCE = 400_000


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--database-url",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/kjxx_capacity")
    return parser.parse_args()


def processed_pictures():
    """A few distinct camera pictures through the real pipeline: (content, thumb, w, h)."""
    from domain.images import process_document, process_id_photo
    from tests import images_factory
    documents = []
    for seed in range(1, 5):
        image = process_document(images_factory.camera_document(seed=seed))
        documents.append(image)
    portrait = process_id_photo(images_factory.portrait_12mp())
    return documents, portrait


def build(app, people: int, documents, portrait) -> None:
    from domain import applications, materials, submission
    from extensions import db
    from models import Account, Application, Material, Section
    from tests.factories import stored_answers, unique_id, unique_phone
    password_hash = "$argon2id$v=19$m=19456,t=2,p=1$" + "A" * 22 + "$" + "B" * 43
    with app.app_context():
        for index in range(people):
            account = Account(role="applicant", id_type="居民身份证", id_number=unique_id(),
                              name="张三", phone=unique_phone("135"), password_hash=password_hash)
            db.session.add(account)
            db.session.flush()
            application = Application(account_id=account.id)
            db.session.add(application)
            db.session.flush()
            for key, data in stored_answers().items():
                application.sections.append(Section(key=key, data=data, completed=True))
            applications.set_jurisdiction(application, "530102")
            db.session.flush()
            for n, spec in enumerate(materials.required_materials(application)):
                image = portrait if spec.kind == materials.ID_PHOTO else \
                    documents[(index + n) % len(documents)]
                db.session.add(Material(
                    application_id=application.id, owner_id=account.id, kind=spec.kind,
                    sha256=sha256(image.data).hexdigest(), size_bytes=len(image.data),
                    width=image.width, height=image.height, content=image.data,
                    thumbnail=image.thumbnail))
            db.session.flush()
            submission.submit(application, "127.0.0.1")  # commits, with its audit row
        db.session.remove()


def sizes(url: str) -> list[tuple[str, int, int]]:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text("VACUUM ANALYZE"))
        tables = connection.execute(sa.text(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
            "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace "
            "ORDER BY 2 DESC")).all()
        result = []
        for name, size in tables:
            rows = connection.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar()
            result.append((name, size, rows))
        total = connection.execute(sa.text("SELECT pg_database_size(current_database())")).scalar()
    engine.dispose()
    return result + [("(whole database)", total, 0)]


def main():
    args = parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    print(f"[capacity] {args.people} people into {args.database_url}", flush=True)
    fresh_database(args.database_url)
    from app import create_app
    started = time.perf_counter()
    documents, portrait = processed_pictures()
    print(f"[capacity] documents after the pipeline: "
          f"{statistics.mean(len(d.data) for d in documents) / 1024:.0f} KB mean, "
          f"thumbnails {statistics.mean(len(d.thumbnail) for d in documents) / 1024:.1f} KB; "
          f"1-inch photo {len(portrait.data) / 1024:.1f} KB", flush=True)
    app = create_app()
    build(app, args.people, documents, portrait)
    print(f"[capacity] built in {time.perf_counter() - started:.0f} s", flush=True)
    regions_only = {"regions", "alembic_version"}
    print(f"{'table':24} {'MB':>9} {'rows':>8} {'KB/person':>10} {'rows/person':>12} "
          f"{'GB at 400k':>11}")
    for name, size, rows in sizes(args.database_url):
        per_person = size / args.people if name not in regions_only else 0
        print(f"{name:24} {size / 2**20:9.1f} {rows:8d} {per_person / 1024:10.1f} "
              f"{rows / args.people:12.2f} {per_person * PROVINCE / 2**30:11.1f}")


if __name__ == "__main__":
    main()
