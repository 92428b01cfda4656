"""A fresh PostgreSQL database for a benchmark: dropped, made again, migrated, regions loaded —
with the same `flask` commands an operator runs."""
import os
import subprocess
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent


def fresh_database(url: str) -> None:
    """Drop the database named by `url` (disconnecting anyone), make it again and migrate it."""
    server, name = url.rsplit("/", 1)
    admin = sa.create_engine(server + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    env = dict(os.environ, DATABASE_URL=url, APP_ENV="development")
    for command in (["db", "upgrade"], ["regions", "load"]):
        subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "wsgi", *command], cwd=ROOT,
                       env=env, check=True, capture_output=True)
