"""A pooled connection the server closed (a PostgreSQL restart, an administrator) is replaced
at checkout without a round trip and without an error reaching the request."""
import os
import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from db_connections import closed_by_server
from extensions import db

POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")


@pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL (TEST_DATABASE_URL): SQLite has "
                                         "no server to close a connection")
def test_a_connection_the_server_ended_is_replaced_quietly(app, ctx):
    engine = db.engine
    with engine.connect() as connection:
        first = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    killer = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
    with killer.connect() as connection:
        connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        connection.commit()
    killer.dispose()
    time.sleep(0.2)  # the FATAL message and the close reach our socket
    statements, this_thread = [], threading.get_ident()

    def record(_conn, _cursor, statement, *_args):
        if threading.get_ident() == this_thread:   # not a background thread's (job sweeper)
            statements.append(statement)
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        with engine.connect() as connection:
            second = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert second != first
    assert statements == ["SELECT pg_backend_pid()"]  # no ping before it


def test_an_idle_connection_is_not_taken_for_closed(app, ctx):
    with db.engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert not closed_by_server(raw)
