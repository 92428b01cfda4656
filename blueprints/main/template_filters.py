"""Template filters: masking (domain/masking.py, the one place), local (Beijing) time, and the
audit log's words (domain/audit_events.py)."""
from domain.audit_events import actor_label, event_name, readable_details
from domain.clock import local_time
from domain.masking import shown


def register(app):
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(shown, "shown")
    app.add_template_filter(event_name, "event_name")
    app.add_template_filter(actor_label, "actor_label")
    app.add_template_filter(readable_details, "readable_details")
