"""Proof photos, served only to who may see them (domain.access); anyone else gets 404."""
from flask import abort, make_response
from flask_login import current_user, login_required

from blueprints.media import bp
from blueprints.web import client_ip
from domain import audit
from domain.access import can_view
from domain.id_numbers import mask
from extensions import db
from models import Material


def _serve(material_id: int, variant: str):
    material = db.session.get(Material, material_id)
    if material is None or not can_view(current_user, material.application):
        abort(404)
    if current_user.is_staff:
        audit.record("image.view", actor=current_user, ip=client_ip(),
                     subject=mask(material.application.account.id_number),
                     details={"application": material.application_id,
                              "material": material.kind, "variant": variant})
        db.session.commit()
    body = material.thumbnail if variant == "thumb" else material.content
    response = make_response(body)
    response.headers["Content-Type"] = "image/jpeg"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Disposition"] = \
        f'inline; filename="material-{material.id}-{variant}.jpg"'
    return response


@bp.route("/materials/<int:material_id>.jpg")
@login_required
def material_image(material_id):
    return _serve(material_id, "full")


@bp.route("/materials/<int:material_id>-thumb.jpg")
@login_required
def material_thumbnail(material_id):
    return _serve(material_id, "thumb")
