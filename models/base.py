from datetime import UTC, datetime


def utcnow() -> datetime:
    """Naive UTC, the one form of time stored in every database we run on."""
    return datetime.now(UTC).replace(tzinfo=None)
