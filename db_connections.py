"""Pooled database connections that survive a PostgreSQL restart without costing a round trip.

SQLAlchemy's `pool_pre_ping` sends a query before every checkout (with psycopg: BEGIN, SELECT 1,
ROLLBACK — three round trips on every request). Instead, a connection taken from the pool is
looked at without talking to the server: an idle connection never has anything to read, so if
its socket is readable the server has closed it (a restart, an administrator, a crash) or sent
its last words. Such a connection is thrown away and the pool hands out another (SQLAlchemy's
documented "pessimistic" handling: raise DisconnectionError from the checkout event). A
connection that died silently (no FIN) fails its first query instead; SQLAlchemy then
invalidates the pool and that one request gets the 503 page."""
import select

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import Pool


def closed_by_server(dbapi_connection) -> bool:
    fileno = getattr(dbapi_connection, "fileno", None)
    if fileno is None:  # SQLite: a file, nothing can close it under us
        return False
    if getattr(dbapi_connection, "closed", False) or getattr(dbapi_connection, "broken", False):
        return True
    try:
        readable, _writable, _failed = select.select([fileno()], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


@event.listens_for(Pool, "checkout")
def _discard_closed(dbapi_connection, _record, _proxy):
    if closed_by_server(dbapi_connection):
        raise DisconnectionError("the server closed this pooled connection")
