"""Template filters: masking and local (Beijing) time."""
from domain.clock import local_time
from domain.id_numbers import mask as mask_id
from domain.masking import shown
from domain.phones import mask as mask_phone


def register(app):
    app.add_template_filter(mask_id, "mask_id")
    app.add_template_filter(mask_phone, "mask_phone")
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(shown, "shown")
