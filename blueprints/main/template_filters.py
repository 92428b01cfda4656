"""Template filters: masking (domain/masking.py, the one place) and local (Beijing) time."""
from domain.clock import local_time
from domain.masking import shown


def register(app):
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(shown, "shown")
